/**
 * The kubeconfig's `server`, read as client-go's DefaultServerURL reads it, because users'
 * kubeconfigs hold what kubectl accepts: a full URL (`https://host:6443`, with an optional path
 * prefix such as Rancher's `/k8s/clusters/c-m-abc123` that every request keeps), or a bare
 * `host` / `host:port` (`127.0.0.1:6443`), which gets https:// when the kubeconfig has TLS
 * settings and http:// otherwise. Anything else is refused with a message that quotes the
 * address and says what is wrong, never a bare "Invalid URL".
 */

/** What client-go's defaultTLS looks at: any TLS setting means "https unless the URL says otherwise". */
export interface ServerTlsHints {
  /** A CA (certificate-authority or -data), a client certificate, or insecure-skip-tls-verify. */
  hasTlsConfig: boolean;
}

/** A parsed server address: the URL to dial and the path prefix for every request ('' for none). */
export interface ServerAddress {
  url: URL;
  /** The URL's path without its trailing slash, e.g. "/k8s/clusters/c-m-abc123"; '' when none. */
  basePath: string;
}

/** Parses a kubeconfig `server`; throws an Error that quotes it and says what is wrong. */
export function parseServerAddress(raw: string, hints: ServerTlsHints): ServerAddress {
  const quoted = JSON.stringify(raw);
  let url = tryUrl(raw);
  if (!url || url.host === '') {
    // Go's url.Parse sees "127.0.0.1:6443" as an error and "localhost:6443" as scheme
    // "localhost"; client-go then retries with a default scheme, and so do we.
    const scheme = hints.hasTlsConfig ? 'https' : 'http';
    url = tryUrl(`${scheme}://${raw}`);
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
  return { url, basePath: url.pathname.replace(/\/+$/, '') };
}

function tryUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}
