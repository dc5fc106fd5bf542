// The subset of dghubble's PathTrie that the call-stack index uses.
import { describe, expect, it } from '@jest/globals';
import { PathTrie } from '../../lib/profiles/path-trie.js';

describe('PathTrie', () => {
  it('stores and finds values by path, and tells new keys from replaced ones', () => {
    const trie = new PathTrie<number>();
    expect(trie.put('a:1/b:2', 1)).toBe(true);
    expect(trie.put('a:1/b:2', 2)).toBe(false);
    expect(trie.get('a:1/b:2')).toBe(2);
    expect(trie.get('a:1')).toBeUndefined();
    expect(trie.get('a:1/b:2/c:3')).toBeUndefined();
    expect(trie.size).toBe(1);
  });

  it('walks the prefixes of a path that hold values, shortest first, and stops when told', () => {
    const trie = new PathTrie<string>();
    trie.put('a', 'A');
    trie.put('a/b/c', 'C');
    const seen: string[] = [];
    expect(trie.walkPath('a/b/c/d', (prefix, v) => void seen.push(`${prefix}=${v}`))).toBe(false);
    expect(seen).toEqual(['a=A', 'a/b/c=C']);
    expect(trie.walkPath('a/b/c', () => true)).toBe(true);
  });
});
