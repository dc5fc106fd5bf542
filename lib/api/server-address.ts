/**
 * The kubeconfig's `server`, read as client-go's DefaultServerURL reads it, because users'
 * kubeconfigs hold what kubectl accepts: a full URL (`https://host:6443`, with an optional path
 * prefix such as Rancher's `/k8s/clusters/c-m-abc123` that every request keeps), or a bare
 * `host` / `host:port` (`127.0.0.1:6443`), which gets https://. Anything else is refused with a
 * message that quotes the address and says what is wrong, never a bare "Invalid URL".
 *
 * client-go gives a scheme-less address http:// when the kubeconfig has no TLS settings at all;
 * here it is always https://: kube-apiserver has had no insecure port since 1.20, and client-node
 * refuses plain http without insecure-skip-tls-verify, which would then be a TLS setting.
 */

/** A parsed server address: the URL to dial and the path prefix for every request ('' for none). */
export interface ServerAddress {
  /** The server as a URL, https:// unless the kubeconfig said http://; its path is also in `basePath`. */
  url: URL;
  /** The URL's path without its trailing slash, e.g. "/k8s/clusters/c-m-abc123"; '' when none. */
  basePath: string;
  /** True when the address had no scheme and got the default one (`host:port`, a bare host). */
  schemeAdded: boolean;
}

/** Parses a kubeconfig `server`; throws an Error that quotes it and says what is wrong. */
export function parseServerAddress(raw: string): ServerAddress {
  const quoted = JSON.stringify(raw);
  let url = tryUrl(raw);
  const schemeAdded = !url || url.host === '';
  if (!url || url.host === '') {
    // Go's url.Parse sees "127.0.0.1:6443" as an error and "localhost:6443" as scheme
    // "localhost"; client-go then retries with a default scheme, and so do we.
    url = tryUrl(`https://${raw}`);
    if (!url || url.host === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
      throw new Error(`the kubeconfig's server ${quoted} is neither a URL (https://host:port, optionally with a path) nor a host:port pair`);
    }
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`unsupported server address ${quoted}: expected https:// or http://`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`the kubeconfig's server address for ${url.origin} carries user info; put credentials in the kubeconfig's user instead`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error(`the kubeconfig's server ${quoted} has a query or fragment, which no request could keep; remove it`);
  }
  return { url, basePath: url.pathname.replace(/\/+$/, ''), schemeAdded };
}

function tryUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}
