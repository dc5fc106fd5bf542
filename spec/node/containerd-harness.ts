// A real containerd for the node specs. With REFWATCH_CONTAINERD_ADDRESS set (as .ci/run does) the
// specs use that daemon; otherwise, as root with containerd, runc and a static busybox installed,
// each spec file starts its own with scripts/containerd/start.sh and stops it by pid. Without
// them the specs skip with a message, except under CI=true, where they fail instead.
//
// Every spec file works in a namespace of its own, and teardown removes what it made: tasks
// (their shims outlive containerd), containers with their snapshots, images, the namespace and
// runc's state directory for it on the host.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, rmdir } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ContainerdRuntime } from '../../lib/node/containerd/containerd-runtime.js';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/containerd/', import.meta.url));
/** The snapshotter the specs use: it copies layers, so it works on any filesystem (overlay on overlay fails). */
export const SNAPSHOTTER = 'native';

/** Why containerd specs cannot run here, or undefined when they can. Checked without side effects. */
export function unavailableReason(): string | undefined {
  if (process.env.REFWATCH_CONTAINERD_ADDRESS) return staticBusybox() ? undefined : 'no static busybox (apt-get install busybox-static)';
  if (process.platform !== 'linux') return 'containerd specs need Linux';
  if (process.getuid?.() !== 0) return 'containerd specs need root (runc creates namespaces and cgroups)';
  for (const bin of ['containerd', 'ctr', 'runc', 'containerd-shim-runc-v2']) {
    if (!onPath(bin)) return `${bin} is not installed (apt-get install containerd runc)`;
  }
  if (!staticBusybox()) return 'no static busybox (apt-get install busybox-static)';
  return undefined;
}

/**
 * Declares the specs of one file against a real containerd: `body` runs inside a describe whose
 * hooks start the daemon (or join the shared one) in a fresh namespace before the specs and tear
 * it all down after them, checking that no shim of the namespace is left. Where containerd is
 * unavailable the describe is skipped with a console message, or under CI=true replaced by a
 * failing test.
 */
export function describeWithContainerd(name: string, body: (containerd: () => Containerd) => void): void {
  const reason = unavailableReason();
  if (reason !== undefined && process.env.CI === 'true') {
    describe(name, () =>
      it('has a containerd to run against (CI=true may not skip)', () => {
        throw new Error(`containerd specs cannot run: ${reason}`);
      }),
    );
    return;
  }
  // Straight to stderr: Jest drops the console output of a file whose every test is skipped.
  if (reason !== undefined) process.stderr.write(`skipping "${name}": ${reason}\n`);
  (reason === undefined ? describe : describe.skip)(name, () => {
    let cd: Containerd | undefined;
    beforeAll(async () => {
      cd = await startContainerd();
    }, 60_000);
    afterAll(async () => {
      if (!cd) return;
      await cd.teardown();
      expect(cd.shims()).toEqual([]);
    }, 60_000);
    body(() => {
      if (!cd) throw new Error('containerd did not start');
      return cd;
    });
  });
}

export interface Containerd {
  address: string;
  namespace: string;
  runtime: ContainerdRuntime;
  /** Runs ctr against this daemon and namespace; resolves with stdout. */
  ctr(...args: string[]): Promise<string>;
  /** Imports an image built from the host's static busybox under `name`; further names are tags of it. */
  importBusybox(name: string, ...tags: string[]): Promise<void>;
  /** Creates a container from the busybox image with labels and starts its task running `script` under sh. */
  runContainer(id: string, labels: Record<string, string>, script: string): Promise<void>;
  /** Live shim processes serving this namespace. */
  shims(): number[];
  teardown(): Promise<void>;
}

const IMAGE = 'docker.io/refwatch/busybox:test';

/** Starts (or joins) a containerd and opens a fresh namespace in it. */
export async function startContainerd(): Promise<Containerd> {
  let dir: string | undefined;
  let address = process.env.REFWATCH_CONTAINERD_ADDRESS;
  if (!address) {
    const { stdout } = await run(join(SCRIPTS, 'start.sh'), []);
    dir = stdout.trim().split('\n').pop()!;
    address = join(dir, 'containerd.sock');
  }
  const namespace = `refwatch-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  const runtime = new ContainerdRuntime({ address, namespace });
  await runtime.ensureNamespace({ 'refwatch.test': 'true' });
  const work = await mkdtemp(join(tmpdir(), 'refwatch-oci-'));
  const ctr = async (...args: string[]) => (await run('ctr', ['--address', address!, '--namespace', namespace, ...args], { maxBuffer: 16 << 20 })).stdout;
  let imported = false;

  const env: Containerd = {
    address,
    namespace,
    runtime,
    ctr,
    async importBusybox(name, ...tags) {
      const tarball = join(work, `${randomBytes(4).toString('hex')}.tar`);
      await run(join(SCRIPTS, 'busybox-image.sh'), [tarball, name]);
      await ctr('images', 'import', '--snapshotter', SNAPSHOTTER, tarball);
      for (const tag of tags) await ctr('images', 'tag', name, tag);
    },
    async runContainer(id, labels, script) {
      if (!imported) {
        await env.importBusybox(IMAGE);
        imported = true;
      }
      const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
      await ctr('run', '--detach', '--snapshotter', SNAPSHOTTER, ...labelArgs, IMAGE, id, '/bin/sh', '-c', script);
    },
    shims: () => shimPids(address!, namespace),
    async teardown() {
      try {
        // Tasks first, through the adapter under test's own removal: kill, wait, delete task,
        // container and snapshot.
        for (const c of await runtime.listContainers().catch(() => [])) await runtime.remove(c.id).catch(() => {});
        for (const i of await runtime.listImages().catch(() => [])) await runtime.removeImage(i.name, { sync: true }).catch(() => {});
        await runtime.deleteNamespace();
      } finally {
        await runtime.close();
        await rm(work, { recursive: true, force: true });
        await rmdir(`/run/containerd/runc/${namespace}`).catch(() => {});
        if (dir) await run(join(SCRIPTS, 'stop.sh'), [dir]);
      }
    },
  };
  return env;
}

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether the image script finds a static busybox to build images from. */
function staticBusybox(): boolean {
  try {
    execFileSync(join(SCRIPTS, 'busybox-image.sh'), ['--check'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pids of containerd-shim processes started for `namespace` of the containerd at `address`. */
function shimPids(address: string, namespace: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!args[0]?.includes('containerd-shim')) continue;
    const ns = args[args.indexOf('-namespace') + 1];
    const addr = args[args.indexOf('-address') + 1];
    if (ns === namespace && addr === address) pids.push(Number(entry));
  }
  return pids;
}
