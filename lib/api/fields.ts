/**
 * Field selectors as apimachinery writes them. A selector is `field=value` terms joined by
 * commas, so a value holding `,` or `=` (or the `\` that escapes them) must be escaped, or a
 * name such as `a,metadata.namespace=b` becomes two terms and selects something else, and
 * `x=y` becomes a selector the server refuses with a 400 for ever.
 */

/** apimachinery's fields.EscapeValue: `\` to `\\`, then `,` to `\,` and `=` to `\=`. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * `field=value` with the value escaped: apimachinery's `fields.OneTermEqualSelector(field,
 * value).String()`, which the kubelet uses to pin a reflector to `metadata.name`.
 */
export function oneTermEqualSelector(field: string, value: string): string {
  return `${field}=${escapeFieldValue(value)}`;
}
