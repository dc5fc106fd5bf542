/**
 * What every variant is given to do, in one place so that they all do the same (the Go worker
 * in bench/kubelet mirrors it): secrets named secret-0 … secret-(N−1) in one namespace, each
 * holding one value under DATA_KEY, and one pod per secret that references it through envFrom.
 */
import type { V1Pod, V1Secret } from '@kubernetes/client-node';

/** The namespace the secrets live in. */
export const NAMESPACE = 'bench';

/** The data key every benchmark secret holds; updates write new values under it. */
export const DATA_KEY = 'key';

export const secretName = (i: number): string => `secret-${i}`;

/** Secret i as first created: a small value, as most secrets a kubelet mounts are. */
export function initialSecret(i: number): V1Secret {
  return { metadata: { name: secretName(i) }, data: { [DATA_KEY]: Buffer.from(`initial-${i}`).toString('base64') } };
}

/** The merge patch that sets a secret's value. */
export function valuePatch(value: string): { data: Record<string, string> } {
  return { data: { [DATA_KEY]: Buffer.from(value).toString('base64') } };
}

/** Pod i, referencing secret i through envFrom. */
export function podFor(namespace: string, i: number): V1Pod {
  return {
    metadata: { namespace, name: `pod-${i}`, uid: `uid-${i}` },
    spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: secretName(i) } }] }] },
  };
}

/** The DATA_KEY value of a secret as text (the API sends data base64-encoded). */
export function decodedValue(secret: { data?: Record<string, string> } | undefined): string | undefined {
  const raw = secret?.data?.[DATA_KEY];
  return raw === undefined ? undefined : Buffer.from(raw, 'base64').toString('utf8');
}
