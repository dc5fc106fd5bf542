/**
 * KubeAuth turns a client-node KubeConfig into what each request needs: the server URL, TLS
 * material and auth headers. client-node does the hard part (CA/cert files, bearer tokens,
 * token files, exec plugins, OIDC, in-cluster config); we ask it again when our short cache
 * expires or the server answers 401, so rotated tokens and re-run exec plugins are picked up
 * without asking it once per request when a thousand watches start together.
 */
import { createHash } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../util/clock.js';
import { parseProxyUrl } from './proxy.js';
import { parseServerAddress } from './server-address.js';

/** TLS settings for one connection; `identity` changes whenever any of them does. */
export interface TlsMaterial {
  /** The CA bundle that verifies the server (PEM); absent: Node's default trust store. */
  ca?: Buffer | string;
  /** The client certificate (PEM) presented to the server; absent when the user authenticates otherwise. */
  cert?: Buffer | string;
  /** The client certificate's private key (PEM). Secret: never logged, and the pool keys by its digest only. */
  key?: Buffer | string;
  /** The name the server's certificate must carry (tls-server-name); absent: the server URL's host. */
  servername?: string;
  /** false only when the kubeconfig says insecure-skip-tls-verify. */
  rejectUnauthorized: boolean;
  /** A digest of the fields above: connections are pooled per identity. */
  identity: string;
}

/** What one request needs from the kubeconfig, as client-node resolved it. */
export interface ResolvedAuth {
  /**
   * Headers to send, names lower-cased: `authorization` (a bearer token, or Basic for a
   * username and password) and whatever else client-node's authenticators set. Secret: never logged.
   */
  headers: Record<string, string>;
  /** The TLS settings of the connection the request goes over. */
  tls: TlsMaterial;
}

/**
 * How long one answer from client-node is reused, in ms: long enough that a thousand watches
 * starting together ask it (and maybe run an exec plugin) once, short enough that a rotated
 * token file is read again within a second; a 401 forgets the answer at once anyway.
 */
const AUTH_REUSE_MS = 1_000;

/**
 * One kubeconfig's server address and credentials, for KubeClient. It reads the current
 * cluster's server and proxy-url once, when made, and asks client-node for headers and TLS
 * material at most once per second (and again after `invalidate()`), so a token file that is
 * rotated or an exec plugin's credential that expires is picked up without restarting.
 */
export class KubeAuth {
  /** The server to dial (see server-address.ts for what a kubeconfig may hold). */
  readonly server: URL;
  /** The server URL's path prefix for every request, e.g. "/k8s/clusters/c-m-abc123"; '' for none. */
  readonly basePath: string;
  /** The kubeconfig's proxy-url, if any (http:// only; see proxy.ts). */
  readonly proxy: URL | undefined;
  /**
   * What client-node is asked for credentials and TLS: the kubeconfig, or a view of it. Besides
   * them client-node builds an agent from the server and proxy-url, which the pool never uses,
   * and refuses a proxy-url next to a server without a scheme ("Unsupported proxy type"); so
   * when either is there it sees the cluster as the pool dials it: the normalised server and no
   * proxy-url (the pool does the proxying). Its own rule stays: plain http:// needs
   * insecure-skip-tls-verify, with a proxy or without.
   */
  private readonly credentialSource: Pick<KubeConfig, 'applyToHTTPSOptions'>;
  private cached: { at: number; value: Promise<ResolvedAuth> } | undefined;

  /**
   * @param kc the kubeconfig; its current cluster is read now, its credentials on each `resolve()`.
   * @param clock times the reuse of client-node's answer.
   * @throws Error when the current context has no cluster with a server, or when the server or
   *   proxy-url is not an address refwatch can use; the message quotes the address and says why.
   */
  constructor(
    kc: KubeConfig,
    private readonly clock: Clock,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster?.server) throw new Error('the kubeconfig has no current cluster with a server address');
    const address = parseServerAddress(cluster.server);
    ({ url: this.server, basePath: this.basePath } = address);
    this.proxy = cluster.proxyUrl ? parseProxyUrl(cluster.proxyUrl) : undefined;
    this.credentialSource = this.proxy || address.schemeAdded ? asDialled(kc, this.server) : kc;
  }

  /**
   * Headers and TLS material for the next request. Answers within a second of the last one
   * share it; a failed answer is not reused. Rejects with client-node's error when it cannot
   * produce credentials (an unreadable CA or key file, an exec plugin that exits non-zero).
   */
  resolve(): Promise<ResolvedAuth> {
    const now = this.clock.now();
    if (!this.cached || now - this.cached.at >= AUTH_REUSE_MS) {
      const value = this.load();
      this.cached = { at: now, value };
      // A failed load (an exec plugin that exited non-zero) is not reused.
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
    }
    return this.cached.value;
  }

  /** Forget the cached answer, e.g. after a 401: the next request asks client-node again. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async load(): Promise<ResolvedAuth> {
    const opts: {
      headers?: Record<string, string>;
      ca?: Buffer | string;
      cert?: Buffer | string;
      key?: Buffer | string;
      servername?: string;
      rejectUnauthorized?: boolean;
      auth?: string;
    } = { headers: {} };
    await this.credentialSource.applyToHTTPSOptions(opts as never);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    if (opts.auth && !headers.authorization) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const tls = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      servername: opts.servername,
      rejectUnauthorized: opts.rejectUnauthorized !== false,
    };
    return { headers, tls: { ...tls, identity: tlsIdentity(tls) } };
  }
}

/**
 * The pool's key for TLS material: a sha256 over each field, framed as "absent" or its byte
 * length and bytes, so no two different materials share it (a missing CA is not a CA of "-";
 * moving bytes from one field to the next changes it) and connections verified with one CA or
 * presenting one client certificate are never used for another. The full digest is kept: a
 * truncated one could be matched on purpose.
 */
export function tlsIdentity(tls: Omit<TlsMaterial, 'identity'>): string {
  const digest = createHash('sha256');
  for (const part of [tls.ca, tls.cert, tls.key, tls.servername, tls.rejectUnauthorized ? 'verify' : 'insecure']) {
    if (part === undefined) {
      digest.update('-');
      continue;
    }
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    digest.update(`${bytes.length}:`).update(bytes);
  }
  return digest.digest('hex');
}

/** `kc` with its current cluster showing `server` and no proxy-url; everything else is kc's own. */
function asDialled(kc: KubeConfig, server: URL): KubeConfig {
  const view = Object.create(kc) as KubeConfig;
  view.getCurrentCluster = () => {
    const cluster = kc.getCurrentCluster();
    return cluster && { ...cluster, server: server.href, proxyUrl: undefined };
  };
  return view;
}
