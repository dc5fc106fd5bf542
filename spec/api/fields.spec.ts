// Field-selector escaping, byte for byte as apimachinery's fields.EscapeValue, on the names
// that would otherwise change what a `metadata.name=<name>` selector selects.
import { describe, expect, it } from '@jest/globals';
import { escapeFieldValue, oneTermEqualSelector } from '../../lib/api/fields.js';

describe('field selectors', () => {
  const cases: Array<[string, string]> = [
    ['a,metadata.namespace=b', 'a\\,metadata.namespace\\=b'],
    ['foo,metadata.name!=zzz', 'foo\\,metadata.name!\\=zzz'],
    ['=foo', '\\=foo'],
    ['x=y', 'x\\=y'],
    ['trailing,', 'trailing\\,'],
    ['back\\slash', 'back\\\\slash'],
    ['\\,', '\\\\\\,'],
    ['plain-name.1', 'plain-name.1'],
  ];
  for (const [value, escaped] of cases) {
    it(`escapes ${JSON.stringify(value)} as ${JSON.stringify(escaped)}`, () => {
      expect(escapeFieldValue(value)).toBe(escaped);
      expect(oneTermEqualSelector('metadata.name', value)).toBe(`metadata.name=${escaped}`);
    });
  }
});
