// The name rules of apimachinery's validators, on the cases their own tests use, and the error
// that carries a refusal.
import { describe, expect, it } from '@jest/globals';
import { InvalidNameError, checkNamespace, checkObjectName, isDns1123Label, isDns1123Subdomain, isValidPathSegmentName } from '../../lib/api/names.js';

describe('isValidPathSegmentName', () => {
  it('refuses "." and "..", and names containing "/" or "%", as apimachinery does', () => {
    expect(isValidPathSegmentName('.')).toEqual(["may not be '.'"]);
    expect(isValidPathSegmentName('..')).toEqual(["may not be '..'"]);
    expect(isValidPathSegmentName('a/b')).toEqual(["may not contain '/'"]);
    expect(isValidPathSegmentName('a%2Fb')).toEqual(["may not contain '%'"]);
    expect(isValidPathSegmentName('/%')).toEqual(["may not contain '/'", "may not contain '%'"]);
  });

  it('accepts what other resources allow in names: colons, uppercase, commas, dots inside', () => {
    for (const ok of ['system:controller:x', 'Mixed.Case', 'a,b=c', '...', '.hidden', 'back\\slash']) expect(isValidPathSegmentName(ok)).toEqual([]);
  });
});

describe('isDns1123Subdomain', () => {
  it('accepts lowercase alphanumerics, "-" and "." up to 253 characters', () => {
    for (const ok of ['a', 'ab', 'a-b', 'a.b', '0', '1.2.3.4', 'a'.repeat(253), `${'a'.repeat(63)}.${'b'.repeat(63)}`]) expect(isDns1123Subdomain(ok)).toEqual([]);
  });

  it('refuses the rest, with the upstream wording', () => {
    for (const bad of ['', 'A', '-a', 'a-', '.a', 'a.', 'a..b', 'a_b', 'a,b', 'a=b', '..', 'a/b', 'back\\slash', 'ü']) {
      expect(isDns1123Subdomain(bad).join()).toContain('a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters');
    }
    expect(isDns1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']);
  });
});

describe('isDns1123Label', () => {
  it('accepts namespaces and refuses dots, slashes and names over 63 characters', () => {
    for (const ok of ['default', 'kube-system', 'a', '0a', 'a'.repeat(63)]) expect(isDns1123Label(ok)).toEqual([]);
    for (const bad of ['a.b', 'a/b', '..', 'A', '-a']) expect(isDns1123Label(bad).join()).toContain('a lowercase RFC 1123 label');
    expect(isDns1123Label('a'.repeat(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('checkObjectName and checkNamespace', () => {
  it('accepts the empty namespace and refuses the empty name', () => {
    expect(checkNamespace('')).toBeUndefined();
    expect(checkObjectName('', 'x')).toBeUndefined();
    expect(checkObjectName('ns', '')?.message).toBe('invalid resource name "": may not be empty');
    expect(checkObjectName('ns', 7 as unknown as string)?.message).toBe('invalid resource name "number": must be a string');
    expect(checkNamespace(null as unknown as string)?.message).toBe('invalid namespace "object": must be a string');
  });

  it('reports the namespace first, then the name, with the rule given', () => {
    expect(checkObjectName('..', '..')?.message).toBe(`invalid namespace "..": may not be '..'`);
    const err = checkObjectName('ns', 'A', { name: isDns1123Subdomain, what: 'secret name' });
    expect(err).toBeInstanceOf(InvalidNameError);
    expect(err).toMatchObject({ what: 'secret name', value: 'A' });
    expect(err?.message).toMatch(/^invalid secret name "A": a lowercase RFC 1123 subdomain/);
    expect(checkObjectName('a.b', 'x', { namespace: isDns1123Label })?.what).toBe('namespace');
  });

  it('quotes a refused value escaped and cut to 100 characters', () => {
    const err = checkObjectName('ns', `${'x'.repeat(200)}/\n`)!;
    expect(err.message).toBe(`invalid resource name "${'x'.repeat(100)}…": may not contain '/'`);
    expect(checkObjectName('ns', 'a\n/')!.message).toBe(`invalid resource name "a\\n/": may not contain '/'`);
    expect(err.value).toHaveLength(202);
  });
});
