/**
 * Query parameters of list and watch requests, converted and validated as kube-apiserver does
 * (apimachinery's query conversion and ValidateListOptions), so a client that sends a
 * combination the real server refuses is refused here too instead of passing tests that a
 * cluster would fail.
 */
import { StatusError } from '../../api/errors.js';
import type { ListOptions, WatchOptions } from '../../api/source.js';

/**
 * apimachinery's bool conversion: only absence, "false" and "0" are false; any other value,
 * even an empty one (`?watch`), is true.
 */
export function queryBool(query: URLSearchParams, name: string): boolean | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const lower = value.toLowerCase();
  return lower !== 'false' && lower !== '0';
}

/** Whether the query asks for a watch (`watch=true`, `watch=1`, even a bare `watch`). */
export function isWatch(query: URLSearchParams): boolean {
  return queryBool(query, 'watch') === true;
}

/** The list options of a query, refused with a 400 or 422 StatusError as the apiserver refuses them. */
export function listOptions(query: URLSearchParams): ListOptions {
  const opts = common(query);
  const limit = queryInt(query, 'limit');
  // A negative limit means no limit, as in the apiserver.
  if (limit !== undefined && limit > 0) opts.limit = limit;
  const cont = query.get('continue');
  if (cont) {
    // The token carries its own snapshot; an RV next to it would be ambiguous (storage layer rule).
    if (opts.resourceVersion && opts.resourceVersion !== '0') throw new StatusError(400, 'BadRequest', 'specifying resource version is not allowed when using continue');
    opts.continue = cont;
  }
  const match = opts.resourceVersionMatch;
  if (match !== undefined) {
    if (!opts.resourceVersion) throw invalid('resourceVersionMatch', 'Forbidden', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (cont) throw invalid('resourceVersionMatch', 'Forbidden', 'resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') throw unsupported(match, ['Exact', 'NotOlderThan', '']);
    if (match === 'Exact' && opts.resourceVersion === '0') throw invalid('resourceVersionMatch', 'Forbidden', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  if (query.has('sendInitialEvents')) throw invalid('sendInitialEvents', 'Forbidden', 'sendInitialEvents is forbidden for list');
  return opts;
}

/** The watch options of a query, refused with a 400 or 422 StatusError as the apiserver refuses them. */
export function watchOptions(query: URLSearchParams): WatchOptions {
  const opts: WatchOptions = common(query);
  const bookmarks = queryBool(query, 'allowWatchBookmarks');
  if (bookmarks !== undefined) opts.allowWatchBookmarks = bookmarks;
  const timeout = queryInt(query, 'timeoutSeconds');
  if (timeout !== undefined) opts.timeoutSeconds = timeout;
  const initial = queryBool(query, 'sendInitialEvents');
  const match = opts.resourceVersionMatch;
  if (initial !== undefined) {
    opts.sendInitialEvents = initial;
    if (match !== 'NotOlderThan') throw invalid('resourceVersionMatch', 'Forbidden', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
    if (!opts.allowWatchBookmarks) throw invalid('allowWatchBookmarks', 'Forbidden', 'sendInitialEvents requires setting allowWatchBookmarks to true');
  }
  if (match !== undefined) {
    if (initial === undefined) throw invalid('resourceVersionMatch', 'Forbidden', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided');
    if (match !== 'NotOlderThan') throw unsupported(match, ['NotOlderThan']);
  }
  return opts;
}

function common(query: URLSearchParams): ListOptions {
  const opts: ListOptions = {};
  const fieldSelector = query.get('fieldSelector');
  if (fieldSelector) opts.fieldSelector = fieldSelector;
  const labelSelector = query.get('labelSelector');
  if (labelSelector) opts.labelSelector = labelSelector;
  const rv = query.get('resourceVersion');
  if (rv) opts.resourceVersion = rv;
  const match = query.get('resourceVersionMatch');
  if (match) opts.resourceVersionMatch = match as ListOptions['resourceVersionMatch'];
  return opts;
}

function queryInt(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new StatusError(400, 'BadRequest', `${name}: invalid value ${JSON.stringify(value)}: not an integer`);
  }
  return Number(value);
}

/** A 422 Invalid for ListOptions, worded as apimachinery's field errors. */
function invalid(field: string, type: 'Forbidden' | 'Unsupported value', detail: string): StatusError {
  return new StatusError(422, 'Invalid', `ListOptions.meta.k8s.io "" is invalid: ${field}: ${type}: ${detail}`, {
    kind: 'ListOptions',
    group: 'meta.k8s.io',
    causes: [{ reason: type === 'Forbidden' ? 'FieldValueForbidden' : 'FieldValueNotSupported', message: `${type}: ${detail}`, field }],
  });
}

function unsupported(value: string, supported: string[]): StatusError {
  return invalid('resourceVersionMatch', 'Unsupported value', `${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`);
}
