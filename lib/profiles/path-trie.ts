/**
 * PathTrie maps "/"-separated keys to values and answers prefix walks, as dghubble's
 * `trie.PathTrie` does for node-agent's call-stack index: a recorded stack "a:1/b:2/c:3" can be
 * found from any of its prefixes without scanning every stack. Only what the index uses is here.
 */
interface TrieNode<V> {
  value: V | undefined;
  children: Map<string, TrieNode<V>> | undefined;
}

function newNode<V>(): TrieNode<V> {
  return { value: undefined, children: undefined };
}

/**
 * A trie of `/`-separated keys (dghubble's `trie.PathTrie`, as far as the call-stack index uses it):
 * stores values at keys and walks every prefix of a key that holds one.
 */
export class PathTrie<V> {
  private readonly root: TrieNode<V> = newNode();
  private count = 0;

  /** Number of keys holding a value. */
  get size(): number {
    return this.count;
  }

  /** Stores `value` at `key`; returns true when the key held no value before. */
  put(key: string, value: V): boolean {
    let node = this.root;
    for (const segment of key.split('/')) {
      node.children ??= new Map();
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, (child = newNode()));
      node = child;
    }
    const isNew = node.value === undefined;
    if (isNew) this.count++;
    node.value = value;
    return isNew;
  }

  /** The value stored at exactly `key`, or undefined. */
  get(key: string): V | undefined {
    let node: TrieNode<V> | undefined = this.root;
    for (const segment of key.split('/')) {
      node = node.children?.get(segment);
      if (!node) return undefined;
    }
    return node.value;
  }

  /**
   * Calls `walker(prefix, value)` for every prefix of `key` (the key itself included) that holds a
   * value, shortest first; stops early when the walker returns true. Returns whether it stopped.
   */
  walkPath(key: string, walker: (prefix: string, value: V) => boolean | void): boolean {
    let node: TrieNode<V> | undefined = this.root;
    const segments = key.split('/');
    for (let i = 0; i < segments.length; i++) {
      node = node.children?.get(segments[i]);
      if (!node) return false;
      if (node.value !== undefined && walker(segments.slice(0, i + 1).join('/'), node.value) === true) return true;
    }
    return false;
  }
}
