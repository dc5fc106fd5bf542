// Small misbehaving servers for the hostile transport specs, and the kubeconfigs and clients
// that point at them. Each server counts the TCP connections it holds, so a spec can assert
// that nothing the client opened is left behind.
import { afterEach, beforeAll } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { KubeClient, type KubeClientOptions } from '../../../lib/api/kube-client.js';
import { generateServingCertificates, type ServingCertificates } from '../../../lib/testing/api-server/certificates.js';
import { settle } from '../../../lib/testing/fake-clock.js';

export let certs: ServingCertificates;
const cleanups: Array<() => Promise<void> | void> = [];

/** Registers the shared certificates and per-test cleanup; call once at the top of a spec file. */
export function hostileRig(): void {
  beforeAll(async () => {
    certs = await generateServingCertificates();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
}

/** Runs `fn` after the current test, in reverse order of registration. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export interface Listening {
  port: number;
  /** TCP connections the server holds now. */
  readonly sockets: Set<net.Socket>;
  /** TCP connections ever accepted. */
  accepted: number;
}

/** Listens on loopback, tracks every TCP connection, and closes everything after the test. */
export async function listen(server: net.Server): Promise<Listening> {
  const sockets = new Set<net.Socket>();
  const state: Listening = { port: 0, sockets, accepted: 0 };
  server.on('connection', (s: net.Socket) => {
    state.accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  onCleanup(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return state;
}

/** Accepts TCP, reads and drops what arrives (so it sees the client leave), and never says a word: no TLS handshake ever completes. */
export function silentTcpServer(): Promise<Listening> {
  return listen(net.createServer((socket) => socket.resume()));
}

/** Completes TLS with ALPN h2, then reads and drops the client's frames and stays silent: the client waits for SETTINGS that never come. */
export function tlsWithoutSettingsServer(onSecure: (socket: tls.TLSSocket) => void = () => {}): Promise<Listening> {
  const server = tls.createServer({ key: certs.keyPem, cert: certs.certPem, ALPNProtocols: ['h2'] }, (socket) => {
    socket.resume();
    onSecure(socket);
  });
  server.on('tlsClientError', () => {});
  return listen(server);
}

export type H2Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, session: http2.ServerHttp2Session) => void;

/** An HTTP/2 server over TLS (no HTTP/1.1 fallback) that hands every stream to `handler`. */
export async function h2Server(handler: H2Handler, settings: http2.Settings = {}): Promise<Listening & { server: http2.Http2SecureServer }> {
  const server = http2.createSecureServer({ key: certs.keyPem, cert: certs.certPem, settings });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    handler(stream, headers, stream.session as http2.ServerHttp2Session);
  });
  server.on('sessionError', () => {});
  server.on('tlsClientError', () => {});
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const state = await listen(server);
  onCleanup(() => {
    for (const s of sessions) s.destroy();
  });
  return Object.assign(state, { server });
}

/** An HTTPS server that speaks only HTTP/1.1 (no h2 in ALPN). */
export function h1Server(handler: http.RequestListener): Promise<Listening> {
  const server = https.createServer({ key: certs.keyPem, cert: certs.certPem }, handler);
  server.on('tlsClientError', () => {});
  server.on('clientError', (_err, socket) => socket.destroy());
  return listen(server);
}

export interface KubeconfigFor {
  server: string;
  /** Trust the test CA. Default true. */
  ca?: boolean;
  /** The CA to trust instead of the shared one. */
  caPem?: string;
  /** insecure-skip-tls-verify; client-node requires it for plain http:// servers. Default false. */
  insecure?: boolean;
  proxyUrl?: string;
}

/** A kubeconfig for one cluster with a token user. */
export function kubeconfig(opts: KubeconfigFor): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: opts.server,
        ...((opts.ca ?? true) ? { caData: Buffer.from(opts.caPem ?? certs.caPem).toString('base64') } : {}),
        ...(opts.proxyUrl ? { proxyUrl: opts.proxyUrl } : {}),
        ...(opts.insecure ? { skipTLSVerify: true } : {}),
      },
    ],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** A KubeClient for `https://127.0.0.1:port`, closed after the test. */
export function clientFor(port: number, opts: KubeClientOptions = {}, config: Partial<KubeconfigFor> = {}): KubeClient {
  const client = new KubeClient(kubeconfig({ server: `https://127.0.0.1:${port}`, ...config }), opts);
  onCleanup(() => client.close());
  return client;
}

/** Settles a promise's outcome into a value a test can look at without awaiting it. */
export function outcome<T>(p: Promise<T>): { readonly state: 'pending' | 'resolved' | 'rejected'; readonly value?: T; readonly error?: unknown } {
  const o: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  p.then(
    (v) => Object.assign(o, { state: 'resolved', value: v }),
    (e) => Object.assign(o, { state: 'rejected', error: e }),
  );
  return o;
}

/** Event-loop turns (and a real millisecond each time) until `cond` holds; throws after `tries`. */
export async function until(cond: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await settle();
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A JSON body for an empty list at resourceVersion "1". */
export const EMPTY_LIST = JSON.stringify({ kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] });
