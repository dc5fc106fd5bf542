/**
 * The embedded API server on its own: start it, write a kubeconfig any client can use, create
 * a Secret and list it back with a raw HTTPS request, then keep serving until Ctrl-C (SIGINT)
 * or SIGTERM, so that kubectl can be pointed at it with the printed command.
 *
 *   npm run build && node dist/examples/embedded-server.js
 *
 * What kubectl needs: the server serves discovery but no OpenAPI schema, so `kubectl apply -f`
 * and `kubectl create -f` take `--validate=false` (without it they fail with "failed to
 * download openapi"), and `kubectl explain` does not work; it accepts only JSON merge patches,
 * so an existing object is changed with `kubectl patch --type=merge` (apply's strategic merge
 * patch gets 415). get, watch (-w), delete, and `create configmap|secret` work as on a cluster.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../lib/testing/index.js';

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

/** Resolves with the first of SIGINT or SIGTERM; the process keeps running until then. */
function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function main(): Promise<void> {
  const stopped = untilStopped();
  const server = await ApiServer.start({ tokens: { 'demo-token': 'demo' } });
  const dir = await mkdtemp(join(tmpdir(), 'refwatch-embedded-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await server.writeKubeconfig(kubeconfig, { namespace: 'demo' });
    console.log(`API server at ${server.url}`);
    console.log(`kubeconfig:  ${kubeconfig}`);

    const created = await call(server, 'POST', '/api/v1/namespaces/demo/secrets', {
      metadata: { name: 'db-credentials' },
      data: { password: Buffer.from('not-a-real-password').toString('base64') },
    });
    console.log(`created ${created.body.metadata.name} (HTTP ${created.status}, resourceVersion ${created.body.metadata.resourceVersion})`);
    const listed = await call(server, 'GET', '/api/v1/namespaces/demo/secrets');
    console.log(
      `listed ${listed.body.items.length} secret(s) at resourceVersion ${listed.body.metadata.resourceVersion}:`,
      listed.body.items.map((s: any) => s.metadata.name),
    );

    console.log('\ntry, in another shell:');
    console.log(`  kubectl --kubeconfig ${kubeconfig} get secrets`);
    console.log(`  kubectl --kubeconfig ${kubeconfig} create configmap app --from-literal=mode=blue`);
    console.log(`  kubectl --kubeconfig ${kubeconfig} patch configmap app --type=merge -p '{"data":{"mode":"green"}}'`);
    console.log(`  kubectl --kubeconfig ${kubeconfig} apply --validate=false -f app.yaml`);
    console.log('kubectl needs --validate=false with -f (this server serves no OpenAPI schema) and');
    console.log('--type=merge to patch (it takes JSON merge patches only, so apply cannot update).');
    console.log('\nserving until Ctrl-C');
    const signal = await stopped;
    console.log(`\n${signal}: ${server.requests.length} requests served; stopping`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
