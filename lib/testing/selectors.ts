/**
 * Field and label selector matching as kube-apiserver does it for the selectors refwatch and
 * its tests use: field selectors on metadata.name, metadata.namespace and a pod's spec.nodeName
 * (what a node agent lists its pods by), and the full label selector grammar (=, ==, !=, in,
 * notin, exists, !exists). Shared by the in-memory source and the embedded API server.
 */
import { StatusError } from '../api/errors.js';
import { metaOf } from '../api/object.js';

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

export function parseFieldSelector(selector: string | undefined): Matcher {
  if (!selector) return matchAll;
  const terms = selector.split(',').map((term) => {
    const m = /^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw badSelector('field', selector);
    const [, field, op, value] = m;
    const read = Object.hasOwn(FIELDS, field) ? FIELDS[field] : undefined;
    if (!read) throw new StatusError(400, 'BadRequest', `field label not supported: ${field}`);
    const negate = op === '!=';
    return (obj: unknown) => (read(obj) === value) !== negate;
  });
  return (obj) => terms.every((t) => t(obj));
}

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
      return (labels: Record<string, string>) => (key in labels) !== (not === '!');
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
