/**
 * Keeps what a request sent out of the error its answer becomes. A create or update of a
 * Secret sends its data, and API servers quote request bodies back in errors in many shapes:
 * whole (decoding errors), pretty-printed, Go-%q-escaped, as a field value in a validation
 * error, as a 10- or 50-byte window of json-iterator's error context, inside `details.causes`.
 * Recognising the shapes misses the next one, so this scrubs by content instead: every string
 * value of the body, in every encoding it can come back in, is cut out of the message, the
 * reason and every string of the details wherever a long enough piece of it appears.
 */
import type { Status } from './errors.js';

/**
 * The Status an error response carried, with nothing of the request body `sent` left in it: a
 * quote of the whole JSON body (from `{"`, `'{"` or `({"` to the end of the message) becomes
 * `<request body omitted>`, then every piece of a sent value left in message, reason or details
 * is redacted.
 */
export function withoutRequestData(status: Status, sent: unknown): Status {
  let message = status.message;
  const quote = typeof message === 'string' ? message.search(/['"(]?\{"/) : -1;
  if (quote >= 0) message = `${message!.slice(0, quote).trimEnd()} <request body omitted>`;
  return Redactor.forBody(sent).scrubStatus({ ...status, message });
}

/** What a redacted run of text becomes. */
export const REDACTED = '<redacted>';

/**
 * The shortest run of text that is redacted for matching a piece of a sent value. Servers cut
 * quotes at arbitrary points (json-iterator's context is 10 bytes either side of the error),
 * so pieces, not only whole values, must go; but the shorter the piece, the more of the
 * server's own words match by chance. A 200-character message shares some 4-character run
 * with a random 4 KiB base64 value about once in 20 errors; some 6-character run, about once
 * in 84 000 (200 × 4096 / 64^6). So 6: at most 5 characters of a value can survive, at the
 * edge of a cut quote (under 30 bits of a base64 form). The price is paid by values that are
 * prose: a word of 6 letters or more that a value shares with the message is redacted too.
 */
export const MIN_REDACTED_FRAGMENT = 6;

/**
 * Values shorter than MIN_REDACTED_FRAGMENT (a 5-letter password) are redacted only where they
 * stand alone, between non-alphanumerics: inside a word they cannot be told from the word.
 * Below 3 characters ("1", "no") a value is not worth hiding and hiding it would shred messages.
 */
const MIN_WHOLE_VALUE = 3;

/**
 * Fields that name the object rather than hold its data: servers quote them in their messages
 * (`secrets "x" already exists`) and the request path carries them anyway. Labels are
 * identifying metadata by Kubernetes' own conventions (indexed, listed, shown by kubectl).
 */
const IDENTITY_FIELDS = new Set(['apiVersion', 'kind', 'metadata.name', 'metadata.namespace', 'metadata.generateName', 'metadata.resourceVersion', 'metadata.uid']);

/** Deeper than this, a body's values are not collected (a real object is a dozen levels deep). */
const MAX_DEPTH = 64;

/**
 * Scrubs the values of one request body out of texts. Build it with `forBody`; `scrubAll` is
 * linear in the texts' length plus the values' (every encoding of each), which is for error
 * paths: for a Secret at the 1 MiB limit, building and scrubbing take a few hundred ms.
 */
export class Redactor {
  private constructor(
    /** Every encoding of every sensitive value at least MIN_REDACTED_FRAGMENT long. */
    private readonly long: string[],
    /** Encodings shorter than that, redacted only as whole tokens. */
    private readonly short: string[],
  ) {}

  /**
   * The redactor for a request body (the object that was JSON-encoded and sent). Its
   * sensitive values are the strings anywhere in it except the identity fields, plus: for a
   * string that is itself JSON (kubectl's last-applied-configuration annotation), the values
   * inside it instead of the text; for canonical base64 (a Secret's `data`), also the decoded
   * bytes. Each is taken raw, JSON-escaped (with and without Go's HTML escaping), Go-%q-escaped,
   * and %q- or JSON-escaped once more, as a quote of the JSON body would hold it.
   */
  static forBody(body: unknown): Redactor {
    const values = new Set<string>();
    const decoded: Buffer[] = [];
    collect(body, '', 0, values, decoded);
    const encodings = new Set<string>();
    for (const value of values) for (const form of encodingsOf(value)) encodings.add(form);
    for (const bytes of decoded) {
      // Text is printed as text; bytes that are not UTF-8 can only come back %q-escaped (as
      // text, a server prints U+FFFD for them, which tells nothing).
      const text = bytes.toString('utf8');
      if (Buffer.byteLength(text) === bytes.length && !text.includes('\uFFFD')) for (const form of encodingsOf(text)) encodings.add(form);
      else encodings.add(goQuote(bytes));
    }
    const long: string[] = [];
    const short: string[] = [];
    for (const form of encodings) {
      if (form.length >= MIN_REDACTED_FRAGMENT) long.push(form);
      else if (form.length >= MIN_WHOLE_VALUE) short.push(form);
    }
    return new Redactor(long, short);
  }

  /** The text with every run of MIN_REDACTED_FRAGMENT or more characters found in a sensitive value, and every short value standing alone, replaced by REDACTED. */
  scrub(text: string): string {
    return this.scrubAll([text])[0];
  }

  /**
   * `scrub` of each text, in one pass over the sensitive values: the cost is the values' total
   * length once, plus the texts', however many texts an error holds.
   */
  scrubAll(texts: string[]): string[] {
    if (this.long.length === 0 && this.short.length === 0) return texts;
    const covered = texts.map((t) => new Uint8Array(t.length));
    this.markFragments(texts, covered);
    texts.forEach((t, i) => this.markShortValues(t, covered[i]));
    return texts.map((text, k) => {
      const marks = covered[k];
      let out = '';
      for (let i = 0; i < text.length;) {
        if (!marks[i]) {
          out += text[i++];
          continue;
        }
        out += REDACTED;
        while (i < text.length && marks[i]) i++;
      }
      return out;
    });
  }

  /** A Status with its message, reason and every string in its details (keys included: a server may echo a value as a field path) scrubbed. */
  scrubStatus(status: Status): Status {
    const texts: string[] = [];
    const parts = [status.message, status.reason, status.details];
    mapStrings(parts, 0, (t) => (texts.push(t), t));
    const scrubbed = this.scrubAll(texts);
    let next = 0;
    const [message, reason, details] = mapStrings(parts, 0, () => scrubbed[next++]) as typeof parts;
    return { ...status, message: message as string | undefined, reason: reason as string | undefined, details: details as Status['details'] };
  }

  /** Marks every position covered by a MIN_REDACTED_FRAGMENT-long run that also occurs in a sensitive value. */
  private markFragments(texts: string[], covered: Uint8Array[]): void {
    const n = MIN_REDACTED_FRAGMENT;
    // Index the texts' runs once (text, position pairs), then roll over each value: a rolling
    // hash per position, and a string lookup only where the hash says a text has that run,
    // so the values (up to a megabyte and more) are scanned without allocating.
    const runs = new Map<string, number[]>();
    const hashes = new Set<number>();
    texts.forEach((text, k) => {
      for (let i = 0; i + n <= text.length; i++) {
        const run = text.slice(i, i + n);
        const at = runs.get(run);
        if (at) at.push(k, i);
        else {
          runs.set(run, [k, i]);
          hashes.add(runHash(run, 0, n));
        }
      }
    });
    if (runs.size === 0) return;
    for (const value of this.long) {
      let h = runHash(value, 0, n);
      for (let j = 0; ; j++) {
        if (hashes.has(h)) {
          const run = value.slice(j, j + n);
          const at = runs.get(run);
          if (at) {
            for (let p = 0; p < at.length; p += 2) covered[at[p]].fill(1, at[p + 1], at[p + 1] + n);
            runs.delete(run); // marked everywhere it occurs; later values need not mark it again
          }
        }
        if (j + n >= value.length) break;
        h = rollHash(h, value.charCodeAt(j), value.charCodeAt(j + n));
      }
    }
  }

  private markShortValues(text: string, covered: Uint8Array): void {
    for (const value of this.short) {
      for (let i = text.indexOf(value); i >= 0; i = text.indexOf(value, i + 1)) {
        if (isWordChar(text[i - 1]) || isWordChar(text[i + value.length])) continue;
        covered.fill(1, i, i + value.length);
      }
    }
  }
}

/** A copy of a JSON value with every string (object keys included) replaced by `fn` of it, depth-first in key order. */
function mapStrings(value: unknown, depth: number, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, depth + 1, fn));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = fn(k);
    out[key] = mapStrings(v, depth + 1, fn);
  }
  return out;
}

/** Base of the rolling hash over UTF-16 code units; any odd multiplier spreads them over 32 bits. */
const HASH_BASE = 0x01000193;
/** HASH_BASE to the power MIN_REDACTED_FRAGMENT - 1, mod 2^32: the weight of the unit leaving the window. */
const HASH_OUT_WEIGHT = Array.from({ length: MIN_REDACTED_FRAGMENT - 1 }).reduce<number>((w) => Math.imul(w, HASH_BASE), 1);

/** Polynomial hash of `text[from, from + n)`, mod 2^32. */
function runHash(text: string, from: number, n: number): number {
  let h = 0;
  for (let i = from; i < from + n; i++) h = (Math.imul(h, HASH_BASE) + text.charCodeAt(i)) | 0;
  return h;
}

/** The hash of the window moved one unit on: `out` leaves at the front, `next` enters at the back. */
function rollHash(h: number, out: number, next: number): number {
  return (Math.imul((h - Math.imul(out, HASH_OUT_WEIGHT)) | 0, HASH_BASE) + next) | 0;
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9]/.test(c);
}

/** Collects the sensitive strings of a JSON value, and the bytes of those that are base64 (see Redactor.forBody). */
function collect(value: unknown, path: string, depth: number, out: Set<string>, decoded: Buffer[]): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (IDENTITY_FIELDS.has(path) || path.startsWith('metadata.labels.')) return;
    const embedded = parseEmbeddedJson(value);
    if (embedded !== undefined) return collect(embedded, '', depth + 1, out, decoded);
    out.add(value);
    const bytes = decodeBase64(value);
    if (bytes) decoded.push(bytes);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, `${path}[]`, depth + 1, out, decoded);
    return;
  }
  for (const [key, item] of Object.entries(value)) collect(item, path === '' ? key : `${path}.${key}`, depth + 1, out, decoded);
}

/** A JSON object or array held in a string, or undefined. */
function parseEmbeddedJson(value: string): unknown {
  const first = value.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** The bytes of canonical base64 (as a Secret's data holds them), or undefined. */
function decodeBase64(value: string): Buffer | undefined {
  if (value.length < 4 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.toString('base64') === value ? bytes : undefined;
}

/** The forms a value can take inside a quoted request body. */
function encodingsOf(value: string): string[] {
  const json = jsonEscape(value);
  return [value, json, goJsonEscape(value), goQuote(value), goQuote(json), jsonEscape(json)];
}

function jsonEscape(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** As Go's encoding/json writes a string: also `<`, `>`, `&`, U+2028 and U+2029 as \u escapes. */
function goJsonEscape(value: string): string {
  return jsonEscape(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How Go's %q writes each single byte: printable ASCII as it is, the C escapes, the rest (controls, invalid UTF-8) as \xNN. */
const GO_BYTE_ESCAPES: string[] = Array.from({ length: 256 }, (_, b) => {
  const named: Record<number, string> = { 0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v', 0x22: '\\"', 0x5c: '\\\\' };
  if (named[b]) return named[b];
  if (b >= 0x20 && b < 0x7f) return String.fromCharCode(b);
  return `\\x${b.toString(16).padStart(2, '0')}`;
});

/** Go's strconv.IsPrint for runes beyond ASCII: letters, marks, numbers, punctuation, symbols. */
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * Go's strconv.Quote of the UTF-8 bytes, without the surrounding quotes: printable runes as
 * they are, control characters as \n-style or \x escapes, other runes as \u or \U, and each
 * byte of invalid UTF-8 as \xNN.
 */
function goQuote(value: string | Buffer): string {
  if (typeof value === 'string' && /^[\x20-\x7e]*$/.test(value)) return value.replace(/["\\]/g, (c) => `\\${c}`);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const parts: string[] = [];
  for (let i = 0; i < bytes.length;) {
    if (bytes[i] < 0x80) {
      parts.push(GO_BYTE_ESCAPES[bytes[i++]]);
      continue;
    }
    const [cp, width] = decodeRune(bytes, i);
    if (cp < 0) {
      parts.push(GO_BYTE_ESCAPES[bytes[i++]]);
      continue;
    }
    i += width;
    const c = String.fromCodePoint(cp);
    if (GO_PRINTABLE.test(c)) parts.push(c);
    else parts.push(cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`);
  }
  return parts.join('');
}

/** The code point at `i` and its width in bytes, or [-1, 1] for invalid UTF-8 (Go's utf8.DecodeRune). */
function decodeRune(bytes: Buffer, i: number): [number, number] {
  const b0 = bytes[i];
  if (b0 < 0x80) return [b0, 1];
  const width = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (width === 0 || i + width > bytes.length) return [-1, 1];
  let cp = b0 & (0xff >> (width + 1));
  for (let k = 1; k < width; k++) {
    const b = bytes[i + k];
    if ((b & 0xc0) !== 0x80) return [-1, 1];
    cp = (cp << 6) | (b & 0x3f);
  }
  const min = [0, 0, 0x80, 0x800, 0x10000][width];
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [-1, 1];
  return [cp, width];
}
