/**
 * The side-by-side benchmark's command line. Defaults keep `npm run bench` at 1,000 and
 * 10,000 objects; 100,000 runs only when asked for (`--sizes 1000,10000,100000`), because it
 * needs tens of minutes and several GiB.
 */
import { parseArgs } from 'node:util';
import { VARIANTS, type VariantId } from './variants.js';

export interface BenchOptions {
  /** Numbers of secrets, ascending. Default 1,000 and 10,000. */
  sizes: number[];
  /** Rounds; each runs every variant once, in an order rotated by one per round. Default 3. */
  rounds: number;
  /** Updates per run for the update-to-visible latency, spread evenly over the objects. Default 200. */
  updates: number;
  /** Variants to run. Default all. */
  variants: VariantId[];
  /** client-node informers run up to this many objects (one connection each). Default 10,000. */
  clientNodeMax: number;
  /** Per-run limit until all are readable, in ms; default `defaultLimitMs(objects)`. */
  limitMs?: number;
  /** A run with no newly readable object for this long is stopped as stalled; default `defaultStallMs(objects)`. */
  stallMs?: number;
  /** Open-files limit the workers (and the apiserver) get. Default 1,048,576 (Linux's nr_open default). */
  fdLimit: number;
  /** Flags passed to the kubelet worker, e.g. ["-qps", "50"]. */
  kubeletFlags: string[];
  /** Extra Node flags for the Node workers, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"], for profiling a variant. */
  nodeFlags: string[];
  /** Where results go. Default bench/results. */
  out: string;
  /** Re-render the tables, JSON summaries and figures from this earlier side-by-side.json instead of measuring. */
  render?: string;
}

/**
 * How long a run may take to make all objects readable before it is reported as not
 * converged: a minute, plus 15 ms per object (1,000: 75 s; 10,000: 3.5 min; 100,000: 26 min),
 * several times what the slowest variant needed at 1,000 and 10,000 on 2 shared cores.
 */
export function defaultLimitMs(objects: number): number {
  return 60_000 + 15 * objects;
}

/**
 * How long a run may go without one more object becoming readable before it is stopped as
 * stalled: a minute plus 1 ms per object. A variant caught in a retry storm (every informer
 * failing and restarting together) is reported after that instead of the whole limit.
 */
export function defaultStallMs(objects: number): number {
  return 60_000 + objects;
}

const USAGE = `usage: node dist/bench/side-by-side/main.js [options]
  --sizes 1000,10000          numbers of secrets (ascending); add 100000 explicitly
  --rounds 3                  rounds of all variants (medians are reported)
  --updates 200               updates per run for update-to-visible latency
  --variants ${VARIANTS.join(',')}
  --client-node-max 10000     largest size client-node informers run at
  --limit-s S                 per-run limit until all readable (default 60 s + 15 ms per object)
  --stall-s S                 stop a run after S s without a newly readable object (default 60 s + 1 ms per object)
  --fd-limit 1048576          open-files limit of workers and the apiserver
  --kubelet-qps 50 --kubelet-burst 100 --kubelet-content-type application/vnd.kubernetes.protobuf
                              the kubelet worker's client (defaults: the kubelet's own)
  --node-flags "--cpu-prof --cpu-prof-dir=/tmp/prof"
                              extra Node flags for the Node workers (profiling; the table then measures the profiler too)
  --out bench/results
  --render FILE               no measuring: tables, summaries and figures again from FILE's samples`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"\n${USAGE}`);
  return n;
}

/** Parses argv (without node and the script). Throws with the usage text on bad input. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string' },
      rounds: { type: 'string' },
      updates: { type: 'string' },
      variants: { type: 'string' },
      'client-node-max': { type: 'string' },
      'limit-s': { type: 'string' },
      'stall-s': { type: 'string' },
      'fd-limit': { type: 'string' },
      'kubelet-qps': { type: 'string' },
      'kubelet-burst': { type: 'string' },
      'kubelet-content-type': { type: 'string' },
      'node-flags': { type: 'string' },
      out: { type: 'string' },
      render: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) throw new Error(USAGE);
  const sizes = (values.sizes ?? '1000,10000').split(',').map((s) => positiveInt('sizes', s.trim(), 0));
  for (let i = 1; i < sizes.length; i++) {
    if (sizes[i] <= sizes[i - 1]) throw new Error(`--sizes must be ascending without repeats, got ${values.sizes}\n${USAGE}`);
  }
  const variants = (values.variants ?? VARIANTS.join(',')).split(',').map((v) => v.trim());
  for (const v of variants) {
    if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant "${v}"; known: ${VARIANTS.join(', ')}\n${USAGE}`);
  }
  const kubeletFlags: string[] = [];
  if (values['kubelet-qps'] !== undefined) kubeletFlags.push('-qps', String(positiveInt('kubelet-qps', values['kubelet-qps'], 0)));
  if (values['kubelet-burst'] !== undefined) kubeletFlags.push('-burst', String(positiveInt('kubelet-burst', values['kubelet-burst'], 0)));
  if (values['kubelet-content-type'] !== undefined) {
    const type = values['kubelet-content-type'];
    if (type !== 'application/json' && type !== 'application/vnd.kubernetes.protobuf') {
      throw new Error(`--kubelet-content-type must be application/json or application/vnd.kubernetes.protobuf\n${USAGE}`);
    }
    kubeletFlags.push('-content-type', type);
  }
  return {
    sizes,
    rounds: positiveInt('rounds', values.rounds, 3),
    updates: positiveInt('updates', values.updates, 200),
    variants: [...new Set(variants)] as VariantId[],
    clientNodeMax: positiveInt('client-node-max', values['client-node-max'], 10_000),
    limitMs: values['limit-s'] === undefined ? undefined : positiveInt('limit-s', values['limit-s'], 0) * 1000,
    stallMs: values['stall-s'] === undefined ? undefined : positiveInt('stall-s', values['stall-s'], 0) * 1000,
    fdLimit: positiveInt('fd-limit', values['fd-limit'], 1_048_576),
    kubeletFlags,
    nodeFlags: (values['node-flags'] ?? '').split(/\s+/).filter((f) => f !== ''),
    out: values.out ?? 'bench/results',
    render: values.render,
  };
}

/** Whether the variant runs at this size (client-node informers stop at clientNodeMax). */
export function runsAt(options: BenchOptions, variant: VariantId, objects: number): boolean {
  return options.variants.includes(variant) && (variant !== 'client-node' || objects <= options.clientNodeMax);
}

/** Round r's order: the variants rotated by r, so none always runs first after the secrets were written. */
export function roundOrder<T>(variants: readonly T[], round: number): T[] {
  const k = variants.length === 0 ? 0 : round % variants.length;
  return [...variants.slice(k), ...variants.slice(0, k)];
}
