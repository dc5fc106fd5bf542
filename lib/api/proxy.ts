/**
 * The kubeconfig's `proxy-url`, as client-go's transport uses it: an https:// API server is
 * reached through an HTTP CONNECT tunnel (TLS, ALPN and so HTTP/2 run end to end inside it), an
 * http:// one by sending absolute-form requests to the proxy. Only http:// proxies are
 * supported; any other scheme (socks5, https) is refused when the client is made, never
 * bypassed, because a proxy that is silently skipped sends traffic where the user said it must
 * not go.
 */
import http from 'node:http';
import type net from 'node:net';
import { TransportError } from './transport-errors.js';

/** Proxy schemes this transport can use; the README's differences list names them too. */
export const SUPPORTED_PROXY_SCHEMES = ['http:'] as const;

/**
 * The proxy address from a kubeconfig's `proxy-url`. Throws, naming the address without its
 * credentials, when it is not an http:// URL with a host.
 */
export function parseProxyUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`the kubeconfig's proxy-url is not a URL: expected http://host:port`);
  }
  const shown = `${url.protocol}//${url.host}`;
  if (!(SUPPORTED_PROXY_SCHEMES as readonly string[]).includes(url.protocol)) {
    throw new Error(
      `the kubeconfig's proxy-url ${shown} uses ${url.protocol.replace(/:$/, '')}, which refwatch does not support: only http:// proxies (HTTP CONNECT) are; remove proxy-url or point it at an HTTP proxy`,
    );
  }
  if (url.hostname === '') throw new Error(`the kubeconfig's proxy-url ${shown} has no host`);
  try {
    proxyAuthorization(url);
  } catch {
    throw new Error(`the kubeconfig's proxy-url ${shown} has user info that is not valid percent-encoding`);
  }
  return url;
}

/** `Proxy-Authorization` for a proxy URL with user info, as Go's transport sends it; undefined without. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

/** The proxy's host and port, for dialling it. */
export function proxyEndpoint(proxy: URL): { host: string; port: number } {
  return { host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80) };
}

/**
 * Sends `CONNECT authority` to the proxy. The returned request is the thing to destroy to give
 * up; `tunnel` resolves with the raw socket once the proxy answered 2xx, and rejects with a
 * TransportError naming the proxy (never its credentials) otherwise.
 */
export function openTunnel(proxy: URL, authority: string): { request: http.ClientRequest; tunnel: Promise<net.Socket> } {
  const headers: Record<string, string> = { host: authority };
  const auth = proxyAuthorization(proxy);
  if (auth) headers['proxy-authorization'] = auth;
  const request = http.request({ ...proxyEndpoint(proxy), method: 'CONNECT', path: authority, headers, agent: false });
  const tunnel = new Promise<net.Socket>((resolve, reject) => {
    request.once('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        socket.destroy();
        reject(new TransportError(`proxy ${proxy.origin} refused CONNECT to ${authority}: ${status} ${res.statusMessage ?? ''}`.trimEnd()));
        return;
      }
      // Bytes the proxy sent past its answer belong to the tunnelled connection.
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    request.once('error', (err) => reject(new TransportError(`proxy ${proxy.origin} failed while opening a tunnel to ${authority}: ${err.message}`, err)));
    request.once('close', () => reject(new TransportError(`proxy ${proxy.origin} closed the connection before answering CONNECT ${authority}`)));
  });
  request.end();
  return { request, tunnel };
}
