/**
 * A kubeconfig for the embedded API server, so that any client (kubectl, @kubernetes/client-node's
 * KubeConfig, refwatch's own transport) connects to it the way it connects to a cluster: the
 * server URL, the CA to trust, and a bearer token. It is written as JSON, which every kubeconfig
 * loader accepts because JSON is YAML.
 */
import { writeFile } from 'node:fs/promises';

/** What buildKubeconfig puts into the file. */
export interface KubeconfigParams {
  /** The server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM of the CA; omitted for plain HTTP. */
  caPem?: string;
  /** The bearer token the user presents. */
  token: string;
  /** The user name in the file; only a label. */
  user: string;
  /** Default namespace of the context, if any. */
  namespace?: string;
  /** Name of the cluster, user and context entries. Default "refwatch". */
  name?: string;
}

/** A kubeconfig with one cluster, user and context, in the shape kubectl writes (as JSON). */
export interface Kubeconfig {
  /** Always v1. */
  apiVersion: 'v1';
  /** Always Config. */
  kind: 'Config';
  /** The one cluster: its URL and the CA to trust. */
  clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[];
  /** The one user and its token. */
  users: { name: string; user: { token: string } }[];
  /** The one context joining them, with its namespace. */
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  /** The context's name. */
  'current-context': string;
  /** Empty, as kubectl writes it. */
  preferences: Record<string, never>;
}

/** A kubeconfig that points a client at `p.server` with `p.token`, trusting `p.caPem`. */
export function buildKubeconfig(p: KubeconfigParams): Kubeconfig {
  const name = p.name ?? 'refwatch';
  const cluster: Kubeconfig['clusters'][number]['cluster'] = { server: p.server };
  if (p.caPem) cluster['certificate-authority-data'] = Buffer.from(p.caPem).toString('base64');
  const context: Kubeconfig['contexts'][number]['context'] = { cluster: name, user: p.user };
  if (p.namespace) context.namespace = p.namespace;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name: p.user, user: { token: p.token } }],
    contexts: [{ name, context }],
    'current-context': name,
    preferences: {},
  };
}

/** Writes the kubeconfig readable by its owner only (it holds a token), as kubectl does. */
export async function writeKubeconfigFile(path: string, config: Kubeconfig): Promise<void> {
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
