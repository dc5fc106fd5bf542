/**
 * The embedded API server in a dozen lines: start it, write a kubeconfig any client can use,
 * create a Secret and list it back with a raw HTTPS request, then stop. Point kubectl at the
 * printed kubeconfig while it runs (set EMBEDDED_SERVER_HOLD_MS to keep it up a while).
 *
 *   npm run build && node dist/examples/embedded-server.js
 */
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../lib/testing/index.js';

const HOLD_MS = Number(process.env.EMBEDDED_SERVER_HOLD_MS ?? 0);

/** One JSON request to the server, trusting its CA. */
function call(server: ApiServer, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = server.kubeconfig().users[0].user.token;
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${path}`,
      { method, ca: server.caPem, agent: false, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function main(): Promise<void> {
  const server = await ApiServer.start({ tokens: { 'demo-token': 'demo' } });
  const dir = await mkdtemp(join(tmpdir(), 'refwatch-embedded-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig, { namespace: 'demo' });
    console.log(`API server at ${server.url}`);
    console.log(`kubeconfig:  ${kubeconfig}   (kubectl --kubeconfig ${kubeconfig} get secrets)`);

    const created = await call(server, 'POST', '/api/v1/namespaces/demo/secrets', {
      metadata: { name: 'db-credentials' },
      data: { password: Buffer.from('not-a-real-password').toString('base64') },
    });
    console.log(`created ${created.body.metadata.name} (HTTP ${created.status}, resourceVersion ${created.body.metadata.resourceVersion})`);

    const listed = await call(server, 'GET', '/api/v1/namespaces/demo/secrets');
    console.log(`listed ${listed.body.items.length} secret(s) at resourceVersion ${listed.body.metadata.resourceVersion}:`, listed.body.items.map((s: any) => s.metadata.name));
    console.log('requests:', server.requests.map((r) => `${r.verb} ${r.resource} -> ${r.code} (HTTP/${r.httpVersion})`));

    if (HOLD_MS > 0) await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
