/**
 * Which strings may be object names and namespaces, by apimachinery's rules, and the error for
 * those that may not. Names arrive from pods and labels, that is from outside: one that is not
 * a valid path segment would steer a request elsewhere (`..` reads the collection, `a/b` another
 * object), so they are refused before anything is sent, as client-go's rest client refuses them
 * (`Request.Name`, `Request.Namespace`).
 */

/** The problems with a name, worded as apimachinery's validators word them; empty when valid. */
export type NameValidator = (value: string) => string[];

/** Longest DNS-1123 subdomain (most object names: Secrets, ConfigMaps, Pods). */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
/** Longest DNS-1123 label (namespaces). */
export const DNS1123_LABEL_MAX_LENGTH = 63;

const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;

/**
 * apimachinery's path.IsValidPathSegmentName: not `.` or `..`, no `/` and no `%`. The one rule
 * every resource's names obey (RBAC roles, for one, allow `:` and uppercase), and what the
 * request paths need.
 */
export const isValidPathSegmentName: NameValidator = (value) => {
  if (value === '.' || value === '..') return [`may not be '${value}'`];
  const problems: string[] = [];
  for (const forbidden of ['/', '%']) if (value.includes(forbidden)) problems.push(`may not contain '${forbidden}'`);
  return problems;
};

/** A length limit and a pattern, with apimachinery's two sentences for breaking them. */
function dnsRule(maxLength: number, pattern: string, description: string): NameValidator {
  const regexp = new RegExp(`^${pattern}$`);
  return (value) => {
    const problems: string[] = [];
    if (value.length > maxLength) problems.push(`must be no more than ${maxLength} characters`);
    if (!regexp.test(value)) problems.push(`${description}, regex used for validation is '${pattern}')`);
    return problems;
  };
}

/** apimachinery's IsDNS1123Subdomain: the name rule of Secrets and ConfigMaps (and most kinds). */
export const isDns1123Subdomain: NameValidator = dnsRule(
  DNS1123_SUBDOMAIN_MAX_LENGTH,
  DNS1123_SUBDOMAIN,
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com'",
);

/** apimachinery's IsDNS1123Label: the rule for namespaces (ValidateNamespaceName). */
export const isDns1123Label: NameValidator = dnsRule(
  DNS1123_LABEL_MAX_LENGTH,
  DNS1123_LABEL,
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc'",
);

/** How much of a refused value an error message quotes: enough to recognise it, not a megabyte. */
const QUOTED_VALUE_MAX = 100;

/**
 * A name or namespace refused before any request. `what` says which ("resource name",
 * "namespace", "secret name"); `value` is the refused string as given (for a value that is not
 * a string, its type); `problems` are the validator's sentences. The message quotes the value
 * JSON-escaped and cut to 100 characters.
 */
export class InvalidNameError extends Error {
  /**
   * @param what which name was refused ("namespace", "secret name").
   * @param value the refused string as given, or the type of a value that is not a string.
   * @param problems the validator's sentences, at least one.
   */
  constructor(
    /** Which name was refused ("resource name", "namespace", "secret name"). */
    readonly what: string,
    /** The refused string, uncut; the type's name ("number", "undefined") for a value that is not a string. */
    readonly value: string,
    /** Why it was refused, one sentence per rule broken, in apimachinery's words. */
    readonly problems: string[],
  ) {
    const quoted = JSON.stringify(value.length > QUOTED_VALUE_MAX ? `${value.slice(0, QUOTED_VALUE_MAX)}…` : value);
    super(`invalid ${what} ${quoted}: ${problems.join('; ')}`);
    this.name = 'InvalidNameError';
  }
}

/** Which names a checker accepts, and how a refused name is called. */
export interface NameRules {
  /** For namespaces other than "". Default isValidPathSegmentName. */
  namespace?: NameValidator;
  /** For object names. Default isValidPathSegmentName. */
  name?: NameValidator;
  /** How a refused name is called in the message ("secret name"). Default "resource name". */
  what?: string;
}

/**
 * Checks a namespace and an object name; the first failure as an InvalidNameError, or undefined.
 * The empty namespace (cluster-scoped objects, all-namespaces lists) is valid; the empty name
 * is not ("resource name may not be empty", client-go's words).
 */
export function checkObjectName(namespace: string, name: string, rules: NameRules = {}): InvalidNameError | undefined {
  const namespaceError = checkNamespace(namespace, rules.namespace);
  if (namespaceError) return namespaceError;
  const what = rules.what ?? 'resource name';
  if (typeof name !== 'string') return new InvalidNameError(what, typeof name, ['must be a string']);
  if (name === '') return new InvalidNameError(what, name, ['may not be empty']);
  const problems = (rules.name ?? isValidPathSegmentName)(name);
  return problems.length > 0 ? new InvalidNameError(what, name, problems) : undefined;
}

/** Checks a namespace alone (the empty one is valid); an InvalidNameError, or undefined. */
export function checkNamespace(namespace: string, rule: NameValidator = isValidPathSegmentName): InvalidNameError | undefined {
  if (typeof namespace !== 'string') return new InvalidNameError('namespace', typeof namespace, ['must be a string']);
  if (namespace === '') return undefined;
  const problems = rule(namespace);
  return problems.length > 0 ? new InvalidNameError('namespace', namespace, problems) : undefined;
}
