/**
 * The sandbox Provider end to end on the embedded API server: the CRDs installed, a claimed
 * sandbox running, the Provider's informers synced, then a Pause: the task reserves the
 * sandbox, the caller sets spec.paused, a small controller (played here) sees it and writes
 * the SandboxPaused condition to status, and the waiting task returns on that watch event.
 *
 *   npm run example:sandbox
 */
import { KubeConfig } from '@kubernetes/client-node';
import { filter, firstValueFrom } from 'rxjs';
import { KubeClient, ObjectWriter, WaitTaskConflictError } from '../../lib/index.js';
import { ApiServer } from '../../lib/testing/index.js';
import { sandboxCrds } from './crds.js';
import { SandboxProvider } from './provider.js';
import { patchStatus } from './status-writer.js';
import { LABEL_SANDBOX_CLAIMED, sandboxResources, type Sandbox } from './types.js';

const NS = 'default';

async function main(): Promise<void> {
  const server = await ApiServer.start({ crds: sandboxCrds() });
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc);
  const sandboxes = new ObjectWriter<Sandbox>(client, sandboxResources.sandboxes);
  const provider = new SandboxProvider({ client });
  try {
    await sandboxes.create(NS, { metadata: { name: 'demo', labels: { [LABEL_SANDBOX_CLAIMED]: 'true' } }, spec: { paused: false } });
    await patchStatus(client, sandboxResources.sandboxes, NS, 'demo', {
      phase: 'Running',
      observedGeneration: 1,
      podInfo: { podIP: '10.0.0.7' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'PodReady' }],
    });

    await provider.run(AbortSignal.timeout(10_000));
    const sbx = provider.getClaimedSandbox({ sandboxId: `${NS}--demo` });
    console.log(`cached: sandbox ${NS}/demo phase=${sbx.status?.phase} (claimed id ${NS}--demo)`);

    // The controller's half: pause a sandbox once its spec asks for it.
    const controller = firstValueFrom(provider.informers.sandboxes.events().pipe(filter((e) => e.object.spec?.paused === true))).then((e) =>
      patchStatus(client, sandboxResources.sandboxes, NS, e.object.metadata.name!, {
        phase: 'Paused',
        conditions: [...(e.object.status?.conditions ?? []), { type: 'SandboxPaused', status: 'True', reason: 'SetPause' }],
      }),
    );

    const started = performance.now();
    const pause = provider.newSandboxPauseTask(sbx);
    try {
      try {
        provider.newSandboxResumeTask(sbx);
      } catch (err) {
        if (err instanceof WaitTaskConflictError) console.log(`a Resume meanwhile is refused: ${err.message}`);
        else throw err;
      }
      await sandboxes.patch(NS, 'demo', { spec: { paused: true } });
      await pause.wait(30_000);
    } finally {
      pause.release();
    }
    await controller;
    const now = provider.informers.sandboxes.get(NS, 'demo');
    console.log(
      `pause completed after ${(performance.now() - started).toFixed(1)} ms: phase=${now?.status?.phase}, SandboxPaused=${now?.status?.conditions?.find((c) => c.type === 'SandboxPaused')?.status}`,
    );
    console.log(`live wait hooks: ${provider.waitHooks.size}`);
  } finally {
    await provider.stop();
    await client.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
