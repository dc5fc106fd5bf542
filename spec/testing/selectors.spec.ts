// Field-selector parsing as kube-apiserver does it (apimachinery's fields.ParseSelector):
// escaped values, empty terms, and the 400s for what it cannot parse.
import { describe, expect, it } from '@jest/globals';
import { parseFieldSelector } from '../../lib/testing/selectors.js';

const obj = (namespace: string, name: string) => ({ metadata: { namespace, name } });

describe('parseFieldSelector', () => {
  it('unescapes \\\\, \\, and \\= in values and splits only on unescaped commas', () => {
    const match = parseFieldSelector('metadata.name=a\\,metadata.namespace\\=b');
    expect(match(obj('ns', 'a,metadata.namespace=b'))).toBe(true);
    expect(match(obj('b', 'a'))).toBe(false);
    expect(parseFieldSelector('metadata.name=back\\\\slash')(obj('ns', 'back\\slash'))).toBe(true);
  });

  it('reads an unescaped selector the way the server does: several terms, or an operator in the name', () => {
    expect(parseFieldSelector('metadata.name=a,metadata.namespace=b')(obj('b', 'a'))).toBe(true);
    expect(parseFieldSelector('metadata.name==foo')(obj('ns', 'foo'))).toBe(true);
    expect(parseFieldSelector('metadata.name=trailing,')(obj('ns', 'trailing'))).toBe(true);
    expect(parseFieldSelector('metadata.name!=zzz')(obj('ns', 'zzz'))).toBe(false);
  });

  it('answers 400 for an unescaped "=" in a value, an unknown escape, or a trailing backslash', () => {
    for (const bad of ['metadata.name=x=y', 'metadata.name=back\\slash', 'metadata.name=a\\', 'metadata.name', 'spec.x=y']) {
      expect(() => parseFieldSelector(bad)).toThrow(expect.objectContaining({ code: 400 }));
    }
  });
});
