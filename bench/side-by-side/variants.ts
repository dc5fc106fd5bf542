/**
 * The variants the side-by-side benchmark runs, what each is, and how its worker process is
 * started. Every variant is a separate program speaking protocol.ts; this is the only place
 * that knows which.
 */
import { fileURLToPath } from 'node:url';

/** Every variant, in the order of the table's columns. */
export const VARIANTS = ['refwatch', 'kubelet', 'client-node', 'objects'] as const;
export type VariantId = (typeof VARIANTS)[number];

/** What the tables, charts and the run need to know about a variant. */
export interface VariantSpec {
  id: VariantId;
  /** Column heading. */
  label: string;
  /** Chart colour. */
  color: string;
  /** It keeps watches, so it has an update-to-visible latency. */
  watches: boolean;
  /** 'go' reports heap and goroutine stacks apart; 'node' reports V8's heap after gc(). */
  runtime: 'node' | 'go';
}

/** The variants' descriptions, by id. */
export const VARIANT_SPECS: Record<VariantId, VariantSpec> = {
  refwatch: { id: 'refwatch', label: 'refwatch SecretManager', color: '#1f77b4', watches: true, runtime: 'node' },
  kubelet: { id: 'kubelet', label: 'kubelet (Go) secret manager', color: '#d62728', watches: true, runtime: 'go' },
  'client-node': { id: 'client-node', label: 'client-node informers', color: '#2ca02c', watches: true, runtime: 'node' },
  objects: { id: 'objects', label: 'objects only (floor)', color: '#7f7f7f', watches: false, runtime: 'node' },
};

const NODE_WORKERS: Record<Exclude<VariantId, 'kubelet'>, string> = {
  refwatch: 'refwatch-worker.js',
  'client-node': 'client-node-worker.js',
  objects: 'objects-worker.js',
};

/**
 * V8's default old-space limit depends on the machine's memory and is smaller than 100,000
 * watched objects need in a Node variant; every Node worker gets the same larger one, so
 * sizes and variants run under one setting. It is a limit, not a reservation.
 */
const NODE_HEAP_LIMIT_MB = 8_192;

/** What a worker is started with. */
export interface WorkerInvocation {
  kubeconfigPath: string;
  namespace: string;
  count: number;
  /** The built bench/kubelet binary (scripts/bench/build-kubelet.sh). */
  kubeletBinary?: string;
  /** Extra flags for the kubelet worker (-qps, -burst, -content-type). */
  kubeletFlags?: string[];
  /** Extra Node flags for the Node workers (--cpu-prof, --heapsnapshot-signal=...). */
  nodeFlags?: string[];
}

/** The command line that starts the variant's worker. */
export function workerCommand(id: VariantId, w: WorkerInvocation): { command: string; args: string[] } {
  if (id === 'kubelet') {
    if (!w.kubeletBinary) throw new Error('the kubelet variant needs the bench/kubelet binary');
    return { command: w.kubeletBinary, args: ['-kubeconfig', w.kubeconfigPath, '-namespace', w.namespace, '-count', String(w.count), ...(w.kubeletFlags ?? [])] };
  }
  const script = fileURLToPath(new URL(`./${NODE_WORKERS[id]}`, import.meta.url));
  return {
    command: process.execPath,
    args: [
      '--expose-gc',
      `--max-old-space-size=${NODE_HEAP_LIMIT_MB}`,
      ...(w.nodeFlags ?? []),
      script,
      '--kubeconfig',
      w.kubeconfigPath,
      '--namespace',
      w.namespace,
      '--count',
      String(w.count),
    ],
  };
}
