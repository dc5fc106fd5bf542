/**
 * Field and label selector matching as kube-apiserver does it for the selectors refwatch and
 * its tests use: field selectors on metadata.name, metadata.namespace and a pod's spec.nodeName
 * (what a node agent lists its pods by), and the full label selector grammar (=, ==, !=, in,
 * notin, exists, !exists). Shared by the in-memory source and the embedded API server.
 */
import { StatusError } from '../api/errors.js';
import { metaOf } from '../api/object.js';

/** Whether an object matches a parsed selector. */
export type Matcher = (obj: unknown) => boolean;

/** The fields a field selector may name, and how each is read; an absent field reads as "", as in kube-apiserver. */
const FIELDS: Record<string, (obj: unknown) => string> = {
  'metadata.name': (obj) => metaOf(obj)?.name ?? '',
  'metadata.namespace': (obj) => metaOf(obj)?.namespace ?? '',
  'spec.nodeName': (obj) => {
    const nodeName = (obj as { spec?: { nodeName?: unknown } } | null)?.spec?.nodeName;
    return typeof nodeName === 'string' ? nodeName : '';
  },
};

const matchAll: Matcher = () => true;

/**
 * apimachinery's fields.ParseSelector: terms split on unescaped commas, each split at its first
 * operator (`!=`, `==`, `=`), and the value unescaped (`\\`, `\,`, `\=`); an unknown escape or
 * an unescaped `,`/`=` in a value is a 400, as kube-apiserver answers it.
 */
export function parseFieldSelector(selector: string | undefined): Matcher {
  if (!selector) return matchAll;
  const terms: Matcher[] = [];
  for (const term of splitFieldTerms(selector)) {
    if (term === '') continue;
    const parts = splitFieldTerm(term);
    if (!parts) throw badSelector('field', selector);
    const field = parts.field.trim();
    const read = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (!read) throw new StatusError(400, 'BadRequest', `field label not supported: ${field}`);
    const value = unescapeFieldValue(parts.value, selector);
    const negate = parts.op === '!=';
    terms.push((obj: unknown) => (read(obj) === value) !== negate);
  }
  return (obj) => terms.every((t) => t(obj));
}

/** Splits on the commas no backslash escapes (apimachinery's splitTerms). */
function splitFieldTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    if (escaped) escaped = false;
    else if (selector[i] === '\\') escaped = true;
    else if (selector[i] === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** At the first operator, trying `!=` and `==` before `=` (apimachinery's splitTerm). */
function splitFieldTerm(term: string): { field: string; op: string; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeFieldValue(value: string, selector: string): string {
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') throw invalidField(selector, `invalid escape sequence: \\${c}`);
      out += c;
      escaped = false;
    } else if (c === '\\') escaped = true;
    else if (c === ',' || c === '=') throw invalidField(selector, `unescaped ${c} in value`);
    else out += c;
  }
  if (escaped) throw invalidField(selector, 'invalid escape sequence: \\');
  return out;
}

function invalidField(selector: string, problem: string): StatusError {
  return new StatusError(400, 'BadRequest', `invalid field selector ${JSON.stringify(selector)}: ${problem}`);
}

/** A label selector's matcher (equality, set-based and existence terms); a 400 StatusError for one the apiserver refuses. */
export function parseLabelSelector(selector: string | undefined): Matcher {
  if (!selector || selector.trim() === '') return matchAll;
  const terms = splitTopLevel(selector).map((raw) => {
    const term = raw.trim();
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const [, key, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      return (labels: Record<string, string>) => (op === 'in' ? key in labels && values.has(labels[key]) : !(key in labels && values.has(labels[key])));
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m;
      return op === '!=' ? (labels: Record<string, string>) => labels[key] !== value : (labels: Record<string, string>) => labels[key] === value;
    }
    m = /^(!?)([\w./-]+)$/.exec(term);
    if (m) {
      const [, not, key] = m;
      return (labels: Record<string, string>) => key in labels !== (not === '!');
    }
    throw badSelector('label', selector);
  });
  return (obj) => {
    const labels = metaOf(obj)?.labels ?? {};
    return terms.every((t) => t(labels));
  };
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function badSelector(kind: string, selector: string): StatusError {
  return new StatusError(400, 'BadRequest', `unable to parse requirement: invalid ${kind} selector ${JSON.stringify(selector)}`);
}
