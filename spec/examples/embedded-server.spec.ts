// examples/embedded-server.ts keeps serving until Ctrl-C (SIGINT) or SIGTERM, so the kubectl
// commands it prints work while it runs; it prints the flags kubectl needs with this server, and
// on the signal it stops and removes the kubeconfig it wrote.
import { describe, expect, it } from '@jest/globals';
import { KubeConfig, type V1ConfigMap, type V1Secret } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { KubeClient } from '../../lib/api/kube-client.js';
import { ObjectWriter } from '../../lib/api/object-writer.js';
import { resources } from '../../lib/api/resource.js';
import { useCompiledExamples } from './example-process.js';

const examples = useCompiledExamples();

describe('examples/embedded-server', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'serves the printed kubeconfig until %s, then stops and removes it',
    async (signal) => {
      const server = examples.start('embedded-server');
      await server.waitFor(/serving until Ctrl-C/);
      const [, kubeconfig] = server.stdout.match(/^kubeconfig: +(\S+)$/m) ?? [];
      expect(existsSync(kubeconfig)).toBe(true);

      // What kubectl get / create would do, with the kubeconfig the example printed.
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const client = new KubeClient(kc);
      try {
        const secrets = await client.source<V1Secret>(resources.secrets).list('demo');
        expect(secrets.items.map((s) => s.metadata?.name)).toEqual(['db-credentials']);
        await new ObjectWriter<V1ConfigMap>(client, resources.configMaps).create('demo', { metadata: { name: 'app' }, data: { mode: 'blue' } });
      } finally {
        await client.close();
      }

      server.signal(signal);
      expect(await server.exit()).toEqual({ code: 0, signal: null });
      expect(server.stdout).toMatch(new RegExp(`${signal}: \\d+ requests served; stopping`));
      expect(existsSync(kubeconfig)).toBe(false);
    },
    30_000,
  );

  it('prints kubectl commands with the flags this server needs', async () => {
    const server = examples.start('embedded-server');
    await server.waitFor(/serving until Ctrl-C/);
    const [, kubeconfig] = server.stdout.match(/^kubeconfig: +(\S+)$/m) ?? [];
    server.signal('SIGINT');
    await server.exit();
    expect(server.stdout).toContain(`kubectl --kubeconfig ${kubeconfig} get secrets`);
    expect(server.stdout).toContain(`kubectl --kubeconfig ${kubeconfig} apply --validate=false -f app.yaml`);
    expect(server.stdout).toContain(`patch configmap app --type=merge -p '{"data":{"mode":"green"}}'`);
    expect(server.stdout).toContain('no OpenAPI schema');
  }, 30_000);
});
