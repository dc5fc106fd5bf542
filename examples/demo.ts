/**
 * The demo: pods that reference secrets and configmaps, kept by the kubelet's two caching
 * strategies side by side, Watch (a watch per object) and Cache (a TTL cache), while a writer
 * keeps changing secrets. A table redrawn in place shows what each strategy holds and costs:
 * objects, references, live reflectors, connections, API requests by verb, and how long a
 * write takes to reach the lane (p50/p99).
 *
 *   npm run demo                                    # an embedded API server (real HTTP/2 + TLS)
 *   npm run demo -- --kubeconfig ~/.kube/config     # a real cluster, in a temporary namespace
 *   npm run demo -- --help
 *
 * A real cluster is used only when --kubeconfig names it: KUBECONFIG in the environment is never
 * read, so a shell that exports it for other tools does not send the demo's writes there. Before
 * writing to a cluster the demo says which context and server it writes to. It ends by itself
 * (--duration, default 20 s); Ctrl-C (SIGINT) or SIGTERM ends it early. Either way it deletes
 * what it created (secrets, configmaps, the namespace) before it exits; a second Ctrl-C exits at
 * once and says what was left behind.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig, type V1ConfigMap, type V1Pod, type V1Secret } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import {
  ConfigMapManager,
  KubeClient,
  ObjectWriter,
  SecretManager,
  errorMessage,
  isNotFound,
  resources,
  type ChangeDetectionStrategy,
  type StrategyManager,
} from '../lib/index.js';
import { ApiServer } from '../lib/testing/index.js';
import { percentile } from '../lib/util/percentile.js';

const PODS = 30;
const SECRETS = 15;
const CONFIGMAPS = 5;
/** The Cache lane's TTL. The kubelet's default is 1 minute; 5 s shows the staleness within the demo. */
const CACHE_TTL_MS = 5_000;
const WRITE_EVERY_MS = 300;
/** Readers read every object this often, as the kubelet's volume manager re-reads on each sync. */
const READ_EVERY_MS = 100;
const REDRAW_EVERY_MS = 500;
/** Without a terminal (piped, CI), one plain status line per lane this often instead of a redrawn table. */
const PLAIN_EVERY_MS = 5_000;
/** After the writer stops, how long the lanes get to see its last writes before the summary. */
const SETTLE_MS = 250;
const DEFAULT_DURATION_S = 20;
/** Every line the demo prints fits this many columns. */
export const WIDTH = 100;

const USAGE = `usage: npm run demo [-- options]

Runs on an embedded API server unless --kubeconfig is given; KUBECONFIG is never read.
  --kubeconfig PATH   run on the cluster of PATH's current context, in a temporary namespace
  --context NAME      with --kubeconfig: use this context instead of the current one
  --duration SECONDS  how long the writer runs (default ${DEFAULT_DURATION_S})
  --help              this text`;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString();

// ---------------------------------------------------------------------------------------------
// Output: a frame redrawn in place on a terminal, plain lines elsewhere.

/** Where the demo writes: process.stdout, or a test double. */
export interface Screen {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

/** A line cut to `width` columns, so that it never wraps (a wrapped line breaks the cursor-up count). */
export function fit(line: string, width: number): string {
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * Redraws a frame over the previous one on a terminal: the cursor goes up to the frame's first
 * line, each line is cleared and rewritten, and what is left of a longer previous frame is
 * erased. Nothing is cleared above the frame, so the scrollback keeps one copy.
 */
export class LiveView {
  private height = 0;

  constructor(private readonly screen: Screen) {}

  /** True on a terminal, where frames are redrawn; false on a pipe, where only the final one is printed. */
  get live(): boolean {
    return this.screen.isTTY === true;
  }

  private get width(): number {
    const columns = this.screen.columns;
    return columns && columns > 1 ? Math.min(WIDTH, columns - 1) : WIDTH;
  }

  /** On a terminal, replaces the previous frame; on a pipe, does nothing unless `final`. */
  frame(lines: string[], final = false): void {
    if (!this.live) {
      if (final) for (const line of lines) this.line(line);
      return;
    }
    let text = this.height > 0 ? `\x1b[${this.height}A` : '';
    for (const line of lines) text += `\r\x1b[2K${fit(line, this.width)}\n`;
    text += '\x1b[J';
    this.screen.write(text);
    this.height = final ? 0 : lines.length;
  }

  /** A line below the frame; the next frame starts under it. */
  line(text = ''): void {
    this.screen.write(`${fit(text, this.width)}\n`);
    this.height = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The two lanes and what they measure.

interface Lane {
  readonly strategy: ChangeDetectionStrategy;
  readonly client: KubeClient;
  /** The lane's strategy is chosen at run time, so its managers are typed for any strategy. */
  readonly secrets: SecretManager<ChangeDetectionStrategy>;
  readonly configMaps: ConfigMapManager<ChangeDetectionStrategy>;
  readonly subscriptions: Subscription[];
  /** ms from a write to this lane seeing it. */
  readonly latencies: number[];
  /** `name@version` seen, so each write is measured once. */
  readonly seen: Set<string>;
}

function pod(ns: string, i: number): V1Pod {
  return {
    metadata: { namespace: ns, name: `web-${i}`, uid: `uid-web-${i}` },
    spec: {
      containers: [
        {
          name: 'app',
          envFrom: [{ secretRef: { name: `secret-${i % SECRETS}` } }, { configMapRef: { name: `config-${i % CONFIGMAPS}` } }],
        },
      ],
      volumes: [{ name: 'tls', secret: { secretName: `secret-${(i + 7) % SECRETS}` } }],
    },
  };
}

/** A latency percentile by nearest rank (lib/util/percentile.ts); undefined before any update was seen. */
function latency(values: number[], p: number): number | undefined {
  return values.length === 0 ? undefined : percentile(values, p);
}

function ms(v: number | undefined): string {
  if (v === undefined) return '-';
  return v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US');
}

function laneName(strategy: ChangeDetectionStrategy): string {
  return strategy === 'Cache' ? `Cache (TTL ${CACHE_TTL_MS / 1000} s)` : strategy;
}

function held<T>(m: StrategyManager<T>): { objects: number; references: number; reflectors: number } {
  const { objects, references } = m.stats();
  return { objects, references, reflectors: m.isWatching() ? m.store.stats().runningReflectors : 0 };
}

interface LaneRow {
  strategy: string;
  objects: number;
  refs: number;
  reflectors: number;
  conns: number;
  GET: number;
  LIST: number;
  WATCH: number;
  seen: string;
  p50: string;
  p99: string;
}

function laneRow(lane: Lane, writes: number): LaneRow {
  const stores = [held(lane.secrets.manager), held(lane.configMaps.manager)];
  const stats = lane.client.stats();
  return {
    strategy: laneName(lane.strategy),
    objects: stores.reduce((n, s) => n + s.objects, 0),
    refs: stores.reduce((n, s) => n + s.references, 0),
    reflectors: stores.reduce((n, s) => n + s.reflectors, 0),
    conns: stats.connections,
    GET: stats.requests.get,
    LIST: stats.requests.list,
    WATCH: stats.requests.watch,
    seen: `${lane.seen.size}/${writes}`,
    p50: ms(latency(lane.latencies, 50)),
    p99: ms(latency(lane.latencies, 99)),
  };
}

/** The table's columns: title, width, and the line that explains it under the table. */
const COLUMNS: Array<{ key: keyof LaneRow; title: string; width: number; about: string }> = [
  { key: 'strategy', title: 'strategy', width: 15, about: 'Watch: one watch per object (WatchList); Cache: a GET once the TTL is over' },
  { key: 'objects', title: 'objects', width: 9, about: "secrets and configmaps held by the lane's two managers" },
  { key: 'refs', title: 'refs', width: 6, about: `references from the ${PODS} pods to those objects` },
  { key: 'reflectors', title: 'reflectors', width: 12, about: 'reflector loops running now' },
  { key: 'conns', title: 'conns', width: 6, about: 'TCP connections to the API server (HTTP/2: watches share them)' },
  { key: 'GET', title: 'GET', width: 6, about: 'GET requests the lane sent: Cache, one per object per TTL' },
  { key: 'LIST', title: 'LIST', width: 6, about: 'LIST requests: 0 where the server serves WatchList, else one per reflector' },
  { key: 'WATCH', title: 'WATCH', width: 6, about: 'WATCH requests: one per reflector, again when a watch ends' },
  { key: 'seen', title: 'seen', width: 10, about: 'secret versions the lane has seen / versions written' },
  { key: 'p50', title: 'p50 ms', width: 8, about: 'median ms from a write until the lane has it (Watch: change event; Cache: a read)' },
  { key: 'p99', title: 'p99 ms', width: 8, about: '99th percentile of the same; Cache waits for its TTL, Watch for one watch event' },
];

function cells(values: (c: (typeof COLUMNS)[number]) => string): string {
  return COLUMNS.map((c) => (c.key === 'strategy' ? values(c).padEnd(c.width) : values(c).padStart(c.width))).join('');
}

/** The table and the line per column under it. */
export function table(rows: LaneRow[]): string[] {
  const lines = [cells((c) => c.title)];
  for (const row of rows) lines.push(cells((c) => String(row[c.key])));
  lines.push('');
  for (const c of COLUMNS) lines.push(`  ${c.title.padEnd(12)}${c.about}`);
  return lines;
}

/** Without a terminal: the header of the periodic rows, printed once. */
export function statusHeader(): string {
  return `${'time'.padStart(5)}  ${cells((c) => c.title)}`;
}

/** Without a terminal: one table row with the time since the writer started. */
export function statusLine(elapsedS: number, row: LaneRow): string {
  return `${`${elapsedS} s`.padStart(5)}  ${cells((c) => String(row[c.key]))}`;
}

// ---------------------------------------------------------------------------------------------
// Where the demo runs.

interface Options {
  kubeconfig?: string;
  context?: string;
  durationMs: number;
}

interface Target {
  kc: KubeConfig;
  /** "the embedded API server https://..." or "context X at https://...". */
  where: string;
  /** Set for the embedded server, which the demo stops when done. */
  server?: ApiServer;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: { kubeconfig: { type: 'string' }, context: { type: 'string' }, duration: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.context !== undefined && values.kubeconfig === undefined) throw new UsageError('--context needs --kubeconfig');
  const seconds = values.duration === undefined ? DEFAULT_DURATION_S : Number(values.duration);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--duration must be a positive number of seconds, got ${values.duration}`);
  return { kubeconfig: values.kubeconfig, context: values.context, durationMs: seconds * 1000 };
}

class UsageError extends Error {}

async function connect(opts: Options): Promise<Target> {
  if (opts.kubeconfig === undefined) {
    const server = await ApiServer.start();
    const kc = new KubeConfig();
    kc.loadFromString(JSON.stringify(server.kubeconfig()));
    return { kc, where: `the embedded API server ${server.url}`, server };
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(opts.kubeconfig);
  } catch (err) {
    throw new Error(`cannot read kubeconfig ${opts.kubeconfig}: ${errorMessage(err)}`);
  }
  if (opts.context !== undefined) {
    if (!kc.getContextObject(opts.context)) {
      throw new Error(
        `no context "${opts.context}" in ${opts.kubeconfig} (it has: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        })`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error(`${opts.kubeconfig}: context "${kc.getCurrentContext()}" names no cluster with a server`);
  return { kc, where: `context "${kc.getCurrentContext()}" at ${server}` };
}

// ---------------------------------------------------------------------------------------------
// A run: setup, the writer and readers, the view, cleanup.

/** SIGINT and SIGTERM: the first stops the run (cleanup follows); a second exits at once. */
class StopSignals {
  readonly controller = new AbortController();
  received?: NodeJS.Signals;
  /** Set during cleanup: what a second signal would leave behind. */
  leftBehind?: () => string;

  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.received === undefined) {
      this.received = signal;
      this.controller.abort();
      return;
    }
    const left = this.leftBehind?.();
    process.stderr.write(`\n${signal} again: exiting now${left ? `; left behind: ${left}` : ''}\n`);
    process.exit(exitCodeFor(signal));
  };

  constructor() {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** 128 + the signal's number, as a shell reports a process ended by it. */
function exitCodeFor(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1;
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
async function wait(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

class DemoRun {
  private readonly admin: KubeClient;
  private readonly secretWriter: ObjectWriter<V1Secret>;
  private readonly configMapWriter: ObjectWriter<V1ConfigMap>;
  private readonly namespaces: ObjectWriter<{ metadata: { name: string } }>;
  private readonly lanes: Lane[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** What exists on the server because of this run, so cleanup deletes exactly that. */
  private readonly created = { namespace: false, secrets: new Set<string>(), configMaps: new Set<string>() };
  private readonly writtenAt = new Map<string, number>();
  private writes = 0;
  private writeErrors = 0;
  private started = 0;
  private headerPrinted = false;

  constructor(
    private readonly target: Target,
    private readonly ns: string,
    private readonly view: LiveView,
    private readonly durationMs: number,
  ) {
    this.admin = new KubeClient(target.kc);
    this.secretWriter = new ObjectWriter<V1Secret>(this.admin, resources.secrets);
    this.configMapWriter = new ObjectWriter<V1ConfigMap>(this.admin, resources.configMaps);
    this.namespaces = new ObjectWriter(this.admin, resources.namespaces);
  }

  /** Creates the namespace, secrets and configmaps, and both lanes; stops early when `signal` aborts. */
  async setup(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.view.line(`creating namespace ${this.ns}, ${SECRETS} secrets and ${CONFIGMAPS} configmaps`);
    await this.namespaces.create('', { metadata: { name: this.ns } });
    this.created.namespace = true;
    for (let s = 0; s < SECRETS && !signal.aborted; s++) {
      const name = `secret-${s}`;
      await this.secretWriter.create(this.ns, { metadata: { name }, data: { version: b64('0') } });
      this.created.secrets.add(name);
    }
    for (let c = 0; c < CONFIGMAPS && !signal.aborted; c++) {
      const name = `config-${c}`;
      await this.configMapWriter.create(this.ns, { metadata: { name }, data: { mode: 'blue' } });
      this.created.configMaps.add(name);
    }
    if (signal.aborted) return;

    this.view.line(`registering ${PODS} pods with a Watch lane and a Cache lane (a client each)`);
    for (const strategy of ['Watch', 'Cache'] as const) {
      const client = new KubeClient(this.target.kc);
      const opts = { strategy, ttl: CACHE_TTL_MS };
      const lane: Lane = {
        strategy,
        client,
        secrets: new SecretManager({ ...opts, source: client.source(resources.secrets) }),
        configMaps: new ConfigMapManager({ ...opts, source: client.source(resources.configMaps) }),
        subscriptions: [],
        latencies: [],
        seen: new Set(),
      };
      this.lanes.push(lane);
      for (let i = 0; i < PODS; i++) {
        lane.secrets.registerPod(pod(this.ns, i));
        lane.configMaps.registerPod(pod(this.ns, i));
      }
      // Watch: propagation is the time from a write to the store's change event.
      const secrets = lane.secrets;
      if (secrets.isWatching()) {
        for (let s = 0; s < SECRETS; s++) {
          const name = `secret-${s}`;
          lane.subscriptions.push(secrets.changes(this.ns, name).subscribe((secret) => this.observe(lane, name, secret)));
        }
      }
    }
  }

  /** The first time a lane sees a written version, its latency is recorded. */
  private observe(lane: Lane, name: string, secret: V1Secret | undefined): void {
    const key = `${name}@${unb64(secret?.data?.version)}`;
    const at = this.writtenAt.get(key);
    if (at === undefined || lane.seen.has(key)) return;
    lane.seen.add(key);
    lane.latencies.push(performance.now() - at);
  }

  /** The writer, the readers and the view, until the duration is over or `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.started = performance.now();
    // The writer: one secret gets a new version every WRITE_EVERY_MS.
    this.timers.push(
      setInterval(() => {
        const name = `secret-${this.writes % SECRETS}`;
        const version = String(++this.writes);
        this.writtenAt.set(`${name}@${version}`, performance.now());
        this.secretWriter.patch(this.ns, name, { data: { version: b64(version) } }).catch(() => this.writeErrors++);
      }, WRITE_EVERY_MS),
    );
    // The readers: every object, every READ_EVERY_MS, in each lane. Cache's latency is measured
    // here (a read is how a Cache user sees a change); Watch's by its change events above.
    this.timers.push(
      setInterval(() => {
        for (const lane of this.lanes) {
          for (let s = 0; s < SECRETS; s++) {
            const name = `secret-${s}`;
            lane.secrets.getSecret(this.ns, name).then(
              (secret) => lane.strategy === 'Cache' && this.observe(lane, name, secret),
              () => undefined,
            );
          }
          for (let c = 0; c < CONFIGMAPS; c++) lane.configMaps.getConfigMap(this.ns, `config-${c}`).catch(() => undefined);
        }
      }, READ_EVERY_MS),
    );
    this.view.line(`running for ${this.durationMs / 1000} s; Ctrl-C stops early and cleans up`);
    this.view.line();
    if (this.view.live) {
      this.view.frame(this.frame(false));
      this.timers.push(setInterval(() => this.view.frame(this.frame(false)), REDRAW_EVERY_MS));
    } else {
      this.timers.push(setInterval(() => this.plainLines(), PLAIN_EVERY_MS));
    }
    await wait(this.durationMs, signal);
    this.stopTimers();
    if (!signal.aborted) await wait(SETTLE_MS, signal);
  }

  private elapsedS(): number {
    return this.started === 0 ? 0 : Math.round((performance.now() - this.started) / 1000);
  }

  private plainLines(): void {
    if (!this.headerPrinted) this.view.line(statusHeader());
    this.headerPrinted = true;
    for (const lane of this.lanes) this.view.line(statusLine(this.elapsedS(), laneRow(lane, this.writes)));
  }

  private frame(final: boolean, stoppedBy?: string): string[] {
    const errors = this.writeErrors > 0 ? `; ${this.writeErrors} writes failed` : '';
    return [
      `refwatch demo on ${this.target.where}`,
      `${PODS} pods -> ${SECRETS} secrets + ${CONFIGMAPS} configmaps; a secret patched every ${WRITE_EVERY_MS} ms; ` + `reads every ${READ_EVERY_MS} ms${errors}`,
      final ? `summary after ${this.elapsedS()} s${stoppedBy ? `, stopped by ${stoppedBy}` : ''}` : `${this.elapsedS()} s of ${this.durationMs / 1000} s`,
      ...table(this.lanes.map((lane) => laneRow(lane, this.writes))),
    ];
  }

  /** The one summary: in place of the live table on a terminal, printed once elsewhere. */
  summary(stoppedBy?: string): void {
    if (this.lanes.length === 0) return;
    this.view.frame(this.frame(true, stoppedBy), true);
    this.view.line();
  }

  private stopTimers(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /** What would stay on the server if cleanup stopped now. */
  leftBehind(): string {
    const parts: string[] = [];
    if (this.created.secrets.size > 0) parts.push(`${this.created.secrets.size} secrets`);
    if (this.created.configMaps.size > 0) parts.push(`${this.created.configMaps.size} configmaps`);
    if (this.created.namespace) parts.push(`namespace ${this.ns} (kubectl delete namespace ${this.ns})`);
    return parts.join(', ');
  }

  /** Stops everything the run started and deletes everything it created. */
  async cleanup(): Promise<void> {
    this.stopTimers();
    for (const lane of this.lanes) {
      for (const s of lane.subscriptions) s.unsubscribe();
      await lane.secrets.close();
      await lane.configMaps.close();
      await lane.client.close();
    }
    const left = this.leftBehind();
    if (left) this.view.line(`cleaning up: deleting ${left.replace(/ \(kubectl.*\)$/, '')}`);
    const failures: string[] = [];
    const remove = async (writer: ObjectWriter<any>, ns: string, names: Set<string>, kind: string) => {
      await Promise.all(
        [...names].map((name) =>
          writer.delete(ns, name).then(
            () => names.delete(name),
            (err: unknown) => (isNotFound(err) ? names.delete(name) : failures.push(`${kind} ${name}: ${errorMessage(err)}`)),
          ),
        ),
      );
    };
    await remove(this.secretWriter, this.ns, this.created.secrets, 'secret');
    await remove(this.configMapWriter, this.ns, this.created.configMaps, 'configmap');
    if (this.created.namespace) {
      await this.namespaces.delete('', this.ns).then(
        () => (this.created.namespace = false),
        (err: unknown) => (isNotFound(err) ? (this.created.namespace = false) : failures.push(`namespace ${this.ns}: ${errorMessage(err)}`)),
      );
    }
    await this.admin.close();
    const open = this.lanes.reduce((n, l) => n + l.client.stats().connections, 0);
    if (this.target.server) await this.target.server.stop();
    for (const f of failures) this.view.line(`cleanup failed: ${f}`);
    const remaining = this.leftBehind();
    const what = left ? `deleted ${this.ns} and its objects` : 'nothing had been created';
    this.view.line(remaining ? `left behind: ${remaining}` : `cleaned up: ${what}; ${open} connections open${this.target.server ? '; server stopped' : ''}`);
  }
}

async function main(): Promise<void> {
  let opts: Options | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    console.error(`${errorMessage(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return;
  }
  const stop = new StopSignals();
  const view = new LiveView(process.stdout);
  try {
    if (opts.kubeconfig === undefined && process.env.KUBECONFIG) {
      view.line('KUBECONFIG is set but not used: the demo uses a real cluster only with --kubeconfig PATH');
    }
    if (opts.kubeconfig === undefined) view.line('starting an embedded API server on loopback');
    const target = await connect(opts);
    const ns = `refwatch-demo-${randomBytes(3).toString('hex')}`;
    if (target.server) {
      view.line(`refwatch demo on ${target.where} (HTTP/2 over TLS, in this process)`);
    } else {
      view.line(`refwatch demo will write to ${target.where}:`);
      view.line(`  a new namespace ${ns} with ${SECRETS} secrets and ${CONFIGMAPS} configmaps, a secret patched`);
      view.line(`  every ${WRITE_EVERY_MS} ms; all of it is deleted when the demo ends, also on Ctrl-C`);
    }
    const run = new DemoRun(target, ns, view, opts.durationMs);
    stop.leftBehind = () => run.leftBehind();
    try {
      await run.setup(stop.signal);
      if (!stop.signal.aborted) await run.run(stop.signal);
      run.summary(stop.received);
      if (stop.received) view.line(`${stop.received}: stopping`);
    } finally {
      await run.cleanup();
    }
  } finally {
    stop.dispose();
  }
  if (stop.received) process.exitCode = exitCodeFor(stop.received);
}

// Runs when executed (npm run demo); a spec imports the view without starting a demo.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`demo failed: ${errorMessage(err)}`);
    process.exitCode = 1;
  });
}
