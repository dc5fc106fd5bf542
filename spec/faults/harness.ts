// The fault-test rig: the embedded API server, the real transport (KubeClient over TLS, HTTP/2
// or HTTP/1.1) and a WatchObjectStore (or a SecretManager in Watch mode) watching N secrets,
// all on one FakeClock. Real loopback I/O runs between clock steps: `until` and `Rig.run` let
// event-loop turns go until the network is idle (`quiesce`), then step the clock. Backoff,
// Retry-After, downtime and list delays play out in fake time; no test sleeps for real beyond
// an occasional millisecond while a connect or a response is still in flight.
import { afterEach, beforeAll, expect } from '@jest/globals';
import { KubeConfig, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import { KubeClient, type KubeClientOptions } from '../../lib/api/kube-client.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import { generateServingCertificates, type ServingCertificates } from '../../lib/testing/api-server/index.js';
import { SecretManager } from '../../lib/manager/kind-managers.js';
import { WatchObjectStore, type WatchObjectStoreOptions } from '../../lib/manager/watch-object-store.js';
import { ApiServer, type ApiServerOptions } from '../../lib/testing/api-server/index.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';

export const NS = 'faults';
export const POD_UID = 'pod-uid-1';

/** mulberry32: a small seeded PRNG, so random fault schedules and jitter are reproducible. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface UntilOptions {
  clock: FakeClock;
  /** Fake milliseconds per step. Default 100. */
  stepMs?: number;
  /** Steps before giving up. Default 3000 (5 fake minutes at 100 ms). */
  maxSteps?: number;
  /**
   * A fingerprint of everything real I/O moves (requests seen, connections, cached values).
   * Before each clock step, I/O turns run until it has not changed for `quietTurns` turns, so
   * fake time only moves while the network is idle and loopback latency never shows up as
   * fake milliseconds. Default: no fingerprint, just `quietTurns` turns.
   */
  progress?: () => string;
  /** Unchanged turns that count as idle. Default 20. */
  quietTurns?: number;
  /** See QuiesceOptions.busy. */
  busy?: () => boolean;
  /** Named in the failure message. */
  what: string;
  /** Extra state for the failure message. */
  describe?: () => string;
}

/** Cap on the I/O turns one quiesce() waits, so a chatty stream cannot stall a test. */
const MAX_TURNS_PER_STEP = 2000;
/** Real 1 ms waits one quiesce() may add while `busy()` says a request or connect is in flight. */
const MAX_REAL_WAITS = 2;

export interface QuiesceOptions {
  progress?: () => string;
  quietTurns?: number;
  /** Ends the wait early (the condition being waited for holds). */
  stop?: () => boolean | Promise<boolean>;
  /**
   * True while something is in flight that event-loop turns alone may not see finish (a TCP
   * connect or a response still in the kernel on a loaded machine): then, once quiet, a real
   * millisecond passes and quiet is required again, at most MAX_REAL_WAITS times.
   */
  busy?: () => boolean;
}

/**
 * Runs event-loop turns (no clock step) until `progress()` has not changed for `quietTurns`
 * turns in a row, or `stop()` holds. Returns true if stopped by `stop`.
 */
export async function quiesce(opts: QuiesceOptions): Promise<boolean> {
  const quietTurns = opts.quietTurns ?? 20;
  let last = opts.progress?.();
  let realWaits = 0;
  for (let turn = 0, quiet = 0; turn < MAX_TURNS_PER_STEP; turn++) {
    await settle(1);
    if (opts.stop && (await opts.stop())) return true;
    const now = opts.progress?.();
    if (now === last) quiet++;
    else {
      quiet = 0;
      last = now;
    }
    if (quiet < quietTurns) continue;
    if (realWaits >= MAX_REAL_WAITS || !opts.busy?.()) break;
    realWaits++;
    quiet = 0;
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  return false;
}

/**
 * Alternates real I/O (until idle, see `progress`) with fake-clock steps until `cond` holds;
 * returns the fake time it took. Bounded: fails with a message naming what did not happen and
 * the state at that point.
 */
export async function until(cond: () => boolean | Promise<boolean>, opts: UntilOptions): Promise<number> {
  const { clock, stepMs = 100, maxSteps = 3000 } = opts;
  const start = clock.now();
  for (let step = 0; step <= maxSteps; step++) {
    if (await cond()) return clock.now() - start;
    if (await quiesce({ progress: opts.progress, quietTurns: opts.quietTurns, busy: opts.busy, stop: cond })) return clock.now() - start;
    if (step < maxSteps) await clock.advance(stepMs);
  }
  throw new Error(`${opts.what}: not reached within ${maxSteps} steps of ${stepMs} fake ms${opts.describe ? ` (${opts.describe()})` : ''}`);
}

/** Only real I/O turns, no clock step: for things that need no timer (a socket closing). */
export async function untilIo(cond: () => boolean, what: string, maxTurns = 2000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (cond()) return;
    await settle(1);
    // A real millisecond now and then, for what setImmediate turns cannot hurry (socket close).
    if (i % 50 === 49) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  if (!cond()) throw new Error(`${what}: not reached within ${maxTurns} I/O turns`);
}

export interface RigOptions {
  /** How many secrets to create and watch. Default 30. */
  objects?: number;
  server?: Omit<ApiServerOptions, 'clock'>;
  client?: Omit<KubeClientOptions, 'clock'>;
  store?: Partial<Omit<WatchObjectStoreOptions<V1Secret>, 'source' | 'clock'>>;
  /** Seed for the store's jitter and watch timeouts. Default 1. */
  seed?: number;
  /** Create the store and its references right away. Default true. */
  startStore?: boolean;
  /**
   * Watch through a SecretManager (Watch strategy) with this many pods, each mounting two of
   * the secrets as volumes, instead of a bare store with addReference. Default: bare store.
   */
  pods?: number;
}

export function secretName(i: number): string {
  return `s-${String(i).padStart(3, '0')}`;
}

export function value(n: number): string {
  return Buffer.from(`v${n}`).toString('base64');
}

/** Secret `name` holding write number `n` (unconditional: no resourceVersion). */
function secretObject(name: string, n: number): KubeObject {
  const secret: V1Secret = { metadata: { name, namespace: NS }, data: { v: value(n) } };
  return secret as KubeObject;
}

export class Rig {
  readonly names: string[];
  store!: WatchObjectStore<V1Secret>;
  /** Set when the rig watches through a SecretManager (`pods` option). */
  manager?: SecretManager;
  private writes = 0;

  private constructor(
    readonly clock: FakeClock,
    readonly server: ApiServer,
    readonly client: KubeClient,
    private readonly opts: RigOptions,
  ) {
    this.names = Array.from({ length: opts.objects ?? 30 }, (_, i) => secretName(i));
  }

  static async start(opts: RigOptions = {}): Promise<Rig> {
    const clock = new FakeClock(1_000_000);
    const server = await ApiServer.start({ ...opts.server, clock });
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    const client = new KubeClient(kc, { ...opts.client, clock });
    const rig = new Rig(clock, server, client, opts);
    for (const name of rig.names) server.storage.create(resources.secrets, secretObject(name, 0), NS);
    if (opts.startStore ?? true) rig.startStore();
    return rig;
  }

  /**
   * The store under test: one reference per secret from one pod UID, or (with `pods`) the
   * SecretManager's store after registering pods that mount the secrets.
   */
  startStore(): WatchObjectStore<V1Secret> {
    if (this.opts.pods !== undefined) return this.startManager(this.opts.pods);
    this.store = new WatchObjectStore<V1Secret>({
      source: this.client.source<V1Secret>(resources.secrets),
      clock: this.clock,
      // No idle recycling: these tests keep every watch wanted; recycling has its own specs.
      recycleInterval: 0,
      random: seeded(this.opts.seed ?? 1),
      ...this.opts.store,
    });
    for (const name of this.names) this.store.addReference(NS, name, POD_UID);
    return this.store;
  }

  private startManager(pods: number): WatchObjectStore<V1Secret> {
    const { maxIdleTime, syncTimeout, minWatchTimeout, backoff, random } = this.opts.store ?? {};
    this.manager = new SecretManager({
      source: this.client.source<V1Secret>(resources.secrets),
      strategy: 'Watch',
      clock: this.clock,
      watch: { recycleInterval: 0, random: random ?? seeded(this.opts.seed ?? 1), maxIdleTime, syncTimeout, minWatchTimeout, backoff },
    });
    this.store = this.manager.manager.store;
    const n = this.names.length;
    for (let p = 0; p < pods; p++) this.manager.registerPod(podMounting(`pod-${p}`, [this.names[p % n], this.names[(p + Math.ceil(n / 2)) % n]]));
    return this.store;
  }

  /** A direct write to the server's storage (watches see it like an API write); returns its RV. */
  write(name: string, n = ++this.writes): string {
    const obj = this.server.storage.update(resources.secrets, secretObject(name, n), NS);
    return obj.metadata!.resourceVersion!;
  }

  /** Writes one update to each of `count` random secrets. */
  writeRandom(random: () => number, count: number): void {
    for (let i = 0; i < count; i++) this.write(this.names[Math.floor(random() * this.names.length)]);
  }

  serverSecret(name: string): V1Secret {
    return this.server.storage.get(resources.secrets, NS, name) as V1Secret;
  }

  /** Names whose cached copy is not the server's (not synced, other RV or other data). */
  async stale(): Promise<string[]> {
    const out: string[] = [];
    for (const name of this.names) {
      if (!this.store.inspect(NS, name)?.synced) {
        out.push(name);
        continue;
      }
      const cached = await this.store.get(NS, name);
      const truth = this.serverSecret(name);
      if (cached.metadata?.resourceVersion !== truth.metadata?.resourceVersion || cached.data?.v !== truth.data?.v) out.push(name);
    }
    return out;
  }

  /** What real I/O changes: see `UntilOptions.progress`. */
  fingerprint(): string {
    const s = this.client.stats();
    const store = this.store?.stats();
    let synced = 0;
    for (const name of this.names) if (this.store?.inspect(NS, name)?.synced) synced++;
    return [
      this.server.requests.length,
      this.server.openWatches,
      this.server.connections,
      s.connections,
      s.activeStreams,
      Object.values(s.requests).reduce((a, b) => a + b, 0),
      s.malformedWatchLines,
      store?.activeReflectorLoops,
      synced,
    ].join(' ');
  }

  /**
   * Something is in flight: a client stream without a watch open for it on the server (a
   * request not yet answered, or a list the server holds), or a connection one side has and
   * the other not yet (a connect or a close under way).
   */
  busy(): boolean {
    const s = this.client.stats();
    return s.activeStreams !== this.server.openWatches || s.connections !== this.server.connections;
  }

  describe(): string {
    const s = this.client.stats();
    return [
      `t=${this.clock.now()}`,
      `openWatches=${this.server.openWatches}`,
      `serverConnections=${this.server.connections}`,
      `client=${JSON.stringify({ connections: s.connections, h2: s.http2Connections, active: s.activeStreams, requests: s.requests, malformed: s.malformedWatchLines, throttled: s.throttled })}`,
      `store=${JSON.stringify(this.store?.stats())}`,
      `pendingTimers=${this.clock.pendingTimers()}`,
    ].join(' ');
  }

  /**
   * Every watched secret's cached state equals the server's, and every reflector has a watch
   * open on the server again, within `maxMs` of fake time. Then checks the values with get.
   */
  async converged(what: string, maxMs = 5 * 60_000, stepMs = 100): Promise<number> {
    let lastStale: string[] = [];
    const took = await until(
      async () => {
        lastStale = await this.stale();
        return lastStale.length === 0 && this.server.openWatches === this.names.length;
      },
      {
        clock: this.clock,
        stepMs,
        maxSteps: Math.ceil(maxMs / stepMs),
        what,
        progress: () => `${lastStale.length} ${this.fingerprint()}`,
        busy: () => this.busy(),
        describe: () => `stale=${lastStale.slice(0, 5).join(',')}${lastStale.length > 5 ? `…(${lastStale.length})` : ''} ${this.describe()}`,
      },
    );
    for (const name of this.names) {
      const cached = await this.store.get(NS, name);
      const truth = this.serverSecret(name);
      expect({ name, rv: cached.metadata?.resourceVersion, v: cached.data?.v }).toEqual({ name, rv: truth.metadata?.resourceVersion, v: truth.data?.v });
    }
    expect(this.store.stats()).toMatchObject({ runningReflectors: this.names.length, activeReflectorLoops: this.names.length });
    return took;
  }

  /** Fake time passes with faults switched on (no condition), letting I/O run between steps. */
  async run(ms: number, stepMs = 100, each?: (step: number) => void | Promise<void>): Promise<void> {
    for (let step = 0, t = 0; t < ms; step++, t += stepMs) {
      await each?.(step);
      await quiesce({ progress: () => this.fingerprint(), busy: () => this.busy() });
      await this.clock.advance(stepMs);
    }
  }

  /**
   * Closes the store and the client, then proves nothing is left: no socket on the server, no
   * open watch, the library's counters at zero and no timer pending on the shared clock.
   */
  async shutdown(): Promise<void> {
    this.server.faults.reset();
    if (this.manager) await this.manager.close();
    await this.store?.close();
    await this.client.close();
    await untilIo(() => this.server.connections === 0 && this.server.openWatches === 0, `server sockets and watches gone (${this.describe()})`);
    expect(this.server.connections).toBe(0);
    expect(this.server.openWatches).toBe(0);
    expect(this.server.storage.watchCount).toBe(0);
    expect(this.client.stats()).toMatchObject({ connections: 0, http2Connections: 0, activeStreams: 0 });
    if (this.store) expect(this.store.stats()).toMatchObject({ runningReflectors: 0, activeReflectorLoops: 0, subscribers: 0 });
    expect(this.clock.pendingTimers()).toBe(0);
    await this.server.stop();
  }

  /** For afterEach: stops everything without assertions (a failed test must not leak a server). */
  async dispose(): Promise<void> {
    await this.manager?.close().catch(() => {});
    await this.store?.close().catch(() => {});
    await this.client.close().catch(() => {});
    await this.server.stop().catch(() => {});
  }
}

/** A pod that mounts each named secret as a volume. */
export function podMounting(name: string, secrets: string[]): V1Pod {
  return {
    metadata: { name, namespace: NS, uid: `uid-${name}` },
    spec: {
      containers: [{ name: 'main', image: 'busybox' }],
      volumes: secrets.map((s, i) => ({ name: `v${i}`, secret: { secretName: s } })),
    },
  };
}

/**
 * Call once per test file: one CA for every rig of the file (generating one takes a few
 * hundred ms), and whatever rig a test started disposed after it.
 */
export function rigPerTest(): (opts?: RigOptions) => Promise<Rig> {
  let certificates: ServingCertificates;
  let current: Rig | undefined;
  beforeAll(async () => {
    certificates = await generateServingCertificates();
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return async (opts = {}) => (current = await Rig.start({ ...opts, server: { certificates, ...opts.server } }));
}
