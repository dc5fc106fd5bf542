// A real HTTP proxy for tests: CONNECT tunnels (what a client uses for an https:// server) and
// absolute-form forwarding (for an http:// one). It records what it was asked, and can refuse
// or sit on CONNECTs. The hostile proxy spec and the e2e suite (against kube-apiserver) use it.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';

export interface HttpProxyOptions {
  /** Answer CONNECT with this status instead of opening the tunnel. */
  refuse?: number;
  /** Accept CONNECT and never answer it. */
  stall?: boolean;
}

export interface HttpProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Client connections the proxy holds now. */
  sockets: Set<net.Socket>;
  seen: { connects: string[]; forwarded: string[]; authorization: Array<string | undefined> };
  close(): Promise<void>;
}

export async function startHttpProxy(opts: HttpProxyOptions = {}): Promise<HttpProxy> {
  const seen: HttpProxy['seen'] = { connects: [], forwarded: [], authorization: [] };
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((req, res) => {
    seen.forwarded.push(`${req.method} ${req.url}`);
    seen.authorization.push(req.headers['proxy-authorization']);
    const target = new URL(req.url ?? '');
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request({ host: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const authority = req.url ?? '';
    seen.connects.push(authority);
    seen.authorization.push(req.headers['proxy-authorization']);
    client.on('error', () => {});
    if (opts.refuse) {
      client.end(`HTTP/1.1 ${opts.refuse} Not Allowed Here\r\n\r\n`);
      return;
    }
    if (opts.stall) {
      client.resume();
      client.on('end', () => client.end()); // http.Server sockets are half-open: close ours when the client leaves
      return;
    }
    const colon = authority.lastIndexOf(':');
    const upstream = net.connect(Number(authority.slice(colon + 1)), authority.slice(0, colon).replace(/^\[|\]$/g, ''), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const port = (proxy.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sockets,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    },
  };
}
