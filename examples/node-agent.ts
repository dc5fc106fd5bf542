/**
 * A small node agent: the pods bound to its node come from the (embedded) API server through
 * refwatch, the secrets they reference are served by the secret manager, each pod gets a
 * container in the runtime, and when a pod is deleted the orphan reaper removes its container
 * (SIGQUIT, 5 s grace, SIGKILL if needed, then release its IP). It prints what it does and ends
 * by itself.
 *
 *   npm run example:node-agent
 *
 * The runtime is a local containerd when one answers at CONTAINERD_ADDRESS (default
 * /run/containerd/containerd.sock; `scripts/containerd/start.sh` starts a private one) and a
 * static busybox is installed: the containers are real busybox processes in a namespace of
 * their own, removed at the end. Otherwise it is the in-memory runtime.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { KubeConfig, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import {
  ContainerWatchdog,
  ContainerdRuntime,
  KubeClient,
  NodePodReflector,
  ObjectWriter,
  PodDesiredState,
  SecretManager,
  errorMessage,
  ipsFromLabels,
  podOwnerId,
  podSecretNames,
  resources,
  type ContainerRuntime,
  type Logger,
} from '../lib/index.js';
import { ApiServer, MemoryRuntime } from '../lib/testing/index.js';

const run = promisify(execFile);
const NODE = 'node-1';
const NAMESPACE = 'shop';
/** The label the agent puts on its containers: the owning pod's namespace/name. */
const POD_LABEL = 'refwatch.example/pod';
const IMAGE = 'docker.io/refwatch/busybox:example';
const SCRIPTS = fileURLToPath(new URL('../../scripts/containerd/', import.meta.url));
const started = Date.now();

function say(what: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${what}`);
}

/** Watchdog log lines, printed with their fields. */
const logger: Logger = {
  debug: () => {},
  warn: (msg, fields) => say(`watchdog: ${msg} ${JSON.stringify(fields ?? {})}`),
};

function pod(name: string, node: string, secret: string, ip: string): V1Pod {
  return {
    metadata: { namespace: NAMESPACE, name, annotations: { 'refwatch.example/ip': ip } },
    spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox', envFrom: [{ secretRef: { name: secret } }] }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date() }] },
  };
}

/** The agent's own container naming: one container per pod container, `<pod uid>-<name>`. */
function containerIds(p: V1Pod): string[] {
  return (p.spec?.containers ?? []).map((c) => `${p.metadata?.uid}-${c.name}`);
}

interface Runtime {
  runtime: ContainerRuntime;
  describe: string;
  /** Starts the pod's containers, labelled with their owner and IP. */
  startPod(p: V1Pod): Promise<void>;
  close(): Promise<void>;
}

/** A local containerd (real busybox processes), if one answers; else undefined. */
async function containerd(): Promise<Runtime | undefined> {
  const address = process.env.CONTAINERD_ADDRESS ?? '/run/containerd/containerd.sock';
  try {
    await access(address);
    await run(join(SCRIPTS, 'busybox-image.sh'), ['--check']);
  } catch {
    return undefined;
  }
  const namespace = `refwatch-node-agent-${randomBytes(3).toString('hex')}`;
  const runtime = new ContainerdRuntime({ address, namespace, callTimeout: 10_000 });
  try {
    const { version } = await runtime.version();
    await runtime.ensureNamespace();
    const work = await mkdtemp(join(tmpdir(), 'refwatch-node-agent-'));
    const ctr = (...args: string[]) => run('ctr', ['--address', address, '--namespace', namespace, ...args]);
    await run(join(SCRIPTS, 'busybox-image.sh'), [join(work, 'image.tar'), IMAGE]);
    await ctr('images', 'import', '--snapshotter', 'native', join(work, 'image.tar'));
    await rm(work, { recursive: true, force: true });
    return {
      runtime,
      describe: `containerd ${version} at ${address}, namespace ${namespace}`,
      async startPod(p) {
        for (const id of containerIds(p)) {
          const labels = [`${POD_LABEL}=${podOwnerId(p)}`, `runtime.computer/ip=${p.metadata?.annotations?.['refwatch.example/ip']}`];
          // Exits on SIGQUIT like a well-behaved server; `wait` lets the trap run at once.
          await ctr('run', '--detach', '--snapshotter', 'native', ...labels.flatMap((l) => ['--label', l]), IMAGE, id, '/bin/sh', '-c', 'trap "exit 0" QUIT; sleep 1000 & wait');
        }
      },
      async close() {
        for (const c of await runtime.listContainers()) await runtime.remove(c.id);
        for (const i of await runtime.listImages()) await runtime.removeImage(i.name, { sync: true });
        await runtime.deleteNamespace().catch((err) => say(`could not delete namespace ${namespace}: ${errorMessage(err)}`));
        await runtime.close();
        await rm(`/run/containerd/runc/${namespace}`, { recursive: true, force: true });
      },
    };
  } catch (err) {
    say(`containerd at ${address} is not usable (${errorMessage(err)}); using the in-memory runtime`);
    await runtime.close();
    return undefined;
  }
}

function memory(): Runtime {
  const runtime = new MemoryRuntime();
  return {
    runtime,
    describe: 'the in-memory runtime (no containerd answered)',
    async startPod(p) {
      for (const id of containerIds(p)) {
        runtime.addContainer({ id, labels: { [POD_LABEL]: podOwnerId(p), 'runtime.computer/ip': p.metadata?.annotations?.['refwatch.example/ip'] ?? '' } });
      }
    },
    async close() {},
  };
}

async function main(): Promise<void> {
  const server = await ApiServer.start();
  const kc = new KubeConfig();
  kc.loadFromString(JSON.stringify(server.kubeconfig()));
  const client = new KubeClient(kc);
  const rt = (await containerd()) ?? memory();
  say(`API server ${server.url}; runtime: ${rt.describe}`);

  const podWriter = new ObjectWriter<V1Pod>(client, resources.pods);
  const secretWriter = new ObjectWriter<V1Secret>(client, resources.secrets);
  await new ObjectWriter(client, resources.namespaces).create('', { metadata: { name: NAMESPACE } });
  for (const name of ['web-tls', 'worker-token', 'other-node-secret']) {
    await secretWriter.create(NAMESPACE, { metadata: { name }, data: { value: Buffer.from(randomBytes(12)).toString('base64') } });
  }
  for (const p of [pod('web', NODE, 'web-tls', '10.88.0.10'), pod('worker', NODE, 'worker-token', '10.88.0.11'), pod('elsewhere', 'node-2', 'other-node-secret', '10.88.0.12')]) {
    await podWriter.create(NAMESPACE, p);
  }
  say(`created 3 pods in ${NAMESPACE}: web and worker on ${NODE}, elsewhere on node-2`);

  // The node's pods, kept fresh by one reflector with fieldSelector=spec.nodeName=node-1.
  const pods = new NodePodReflector({ source: client.source<V1Pod>(resources.pods), nodeName: NODE });
  const desired = new PodDesiredState({ source: client.source<V1Pod>(resources.pods), nodeName: NODE, pods, containerIds });
  const secrets = new SecretManager({ source: client.source<V1Secret>(resources.secrets), strategy: 'Watch' });
  const watchdog = new ContainerWatchdog({
    runtime: rt.runtime,
    desired,
    ownerLabel: POD_LABEL,
    logger,
    release: async (c) => say(`released IP ${ipsFromLabels(c).join(', ')} of ${c.id} (it is gone from the runtime)`),
  });
  pods.start();
  await pods.synced();
  say(`pods bound to ${NODE}: ${pods.list().map(podOwnerId).join(', ')}`);

  // Run what is bound here: register each pod with the secret manager, start its containers.
  const known = new Map<string, V1Pod>();
  for (const p of pods.list()) {
    known.set(podOwnerId(p), p);
    secrets.registerPod(p);
    await rt.startPod(p);
    for (const name of podSecretNames(p)) {
      const secret = await secrets.getSecret(NAMESPACE, name);
      say(`${podOwnerId(p)}: secret ${name} served (keys ${Object.keys(secret.data ?? {}).join(', ')}, resourceVersion ${secret.metadata?.resourceVersion})`);
    }
  }
  say(`containers: ${(await rt.runtime.listContainers()).map((c) => `${c.id} (${c.labels[POD_LABEL]})`).join(', ')}`);

  // A pod that leaves the node releases its secrets and asks the reaper for a pass.
  const reaped = new Promise<void>((resolve) => {
    pods.subscribe(() => {
      for (const [id, p] of known) {
        if (pods.get(p.metadata?.namespace ?? '', p.metadata?.name ?? '')) continue;
        known.delete(id);
        secrets.unregisterPod(p);
        say(`pod ${id} left ${NODE}: its secrets are released, the orphan reaper gets a pass`);
        watchdog.nudge();
        setImmediate(resolve);
      }
    });
  });
  watchdog.start();

  say(`deleting pod ${NAMESPACE}/worker, without stopping its container (as if the agent had crashed)`);
  await podWriter.delete(NAMESPACE, 'worker');
  await reaped;
  // cleanupOrphans() joins the pass the nudge started (one that began before the deletion was
  // seen is followed by the nudged one), so this waits for passes, not on a timer.
  for (let pass = 1; ; pass++) {
    const result = await watchdog.cleanupOrphans();
    if (result.deleted.length > 0 || pass === 3) {
      say(`orphan reaper pass: deleted [${result.deleted.join(', ')}], failed [${[...result.failed.keys()].join(', ')}]`);
      break;
    }
  }
  say(`containers now: ${(await rt.runtime.listContainers()).map((c) => c.id).join(', ')}`);

  await watchdog.stop();
  for (const p of known.values()) secrets.unregisterPod(p);
  await secrets.close();
  await pods.close();
  await rt.close();
  await client.close();
  await server.stop();
  say('stopped: watchdog, secret manager, reflector, runtime connection, client and API server');
}

main().catch((err) => {
  console.error(errorMessage(err));
  process.exitCode = 1;
});
