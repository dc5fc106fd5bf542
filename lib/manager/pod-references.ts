/**
 * Which Secrets and ConfigMaps a pod references: the field set and visiting order of
 * k8s.io/kubernetes pkg/api/v1/pod (VisitPodSecretNames, VisitPodConfigmapNames). The
 * managers register exactly these names, so a field missed here is an object the node never
 * gets. Pods arrive from outside and may be malformed: every field is read defensively, and
 * non-string or empty names are skipped.
 */
import type { V1Pod } from '@kubernetes/client-node';

/** Return false to stop visiting. */
export type NameVisitor = (name: string) => boolean;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? (v.map(obj).filter(Boolean) as Obj[]) : [];
}

/** The `name` of a reference object, if it is a usable name. */
function refName(ref: unknown): string | undefined {
  return str(obj(ref)?.name);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Init containers, then regular ones, then ephemeral ones: upstream's AllContainers order. */
function containersOf(spec: Obj): Obj[] {
  return [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)];
}

/**
 * Visits each container in order. As upstream, the walk stops when the visitor returns false,
 * but the callers ignore that result and go on to the volumes.
 */
function visitContainers(spec: Obj, visit: (container: Obj) => boolean): boolean {
  for (const container of containersOf(spec)) if (!visit(container)) return false;
  return true;
}

/**
 * The first set volume source, in upstream's switch order; a well-formed volume has one.
 */
const SECRET_VOLUME_SOURCES: Array<[string, (src: Obj) => string | undefined]> = [
  ['azureFile', (s) => str(s.secretName)],
  ['cephfs', (s) => refName(s.secretRef)],
  ['cinder', (s) => refName(s.secretRef)],
  ['flexVolume', (s) => refName(s.secretRef)],
  ['projected', () => undefined],
  ['rbd', (s) => refName(s.secretRef)],
  ['secret', (s) => str(s.secretName)],
  ['scaleIO', (s) => refName(s.secretRef)],
  ['iscsi', (s) => refName(s.secretRef)],
  ['storageos', (s) => refName(s.secretRef)],
  ['csi', (s) => refName(s.nodePublishSecretRef)],
];

/** Visits every secret name the pod references; false if the visitor stopped the walk. */
export function visitPodSecretNames(pod: V1Pod | unknown, visitor: NameVisitor): boolean {
  const spec = obj(obj(pod)?.spec);
  if (!spec) return true;
  for (const ref of arr(spec.imagePullSecrets)) {
    const name = refName(ref);
    if (name && !visitor(name)) return false;
  }
  visitContainers(spec, (container) => {
    for (const envFrom of arr(container.envFrom)) {
      const name = refName(envFrom.secretRef);
      if (name && !visitor(name)) return false;
    }
    for (const env of arr(container.env)) {
      const name = refName(obj(env.valueFrom)?.secretKeyRef);
      if (name && !visitor(name)) return false;
    }
    return true;
  });
  for (const volume of arr(spec.volumes)) {
    const source = SECRET_VOLUME_SOURCES.find(([field]) => obj(volume[field]));
    if (!source) continue;
    const [field, nameOf] = source;
    const src = obj(volume[field])!;
    if (field === 'projected') {
      for (const projection of arr(src.sources)) {
        const name = refName(projection.secret);
        if (name && !visitor(name)) return false;
      }
      continue;
    }
    const name = nameOf(src);
    if (name && !visitor(name)) return false;
  }
  return true;
}

/** Visits every configmap name the pod references; false if the visitor stopped the walk. */
export function visitPodConfigMapNames(pod: V1Pod | unknown, visitor: NameVisitor): boolean {
  const spec = obj(obj(pod)?.spec);
  if (!spec) return true;
  visitContainers(spec, (container) => {
    for (const envFrom of arr(container.envFrom)) {
      const name = refName(envFrom.configMapRef);
      if (name && !visitor(name)) return false;
    }
    for (const env of arr(container.env)) {
      const name = refName(obj(env.valueFrom)?.configMapKeyRef);
      if (name && !visitor(name)) return false;
    }
    return true;
  });
  for (const volume of arr(spec.volumes)) {
    const projected = obj(volume.projected);
    if (projected) {
      for (const projection of arr(projected.sources)) {
        const name = refName(projection.configMap);
        if (name && !visitor(name)) return false;
      }
    } else if (obj(volume.configMap)) {
      const name = refName(volume.configMap);
      if (name && !visitor(name)) return false;
    }
  }
  return true;
}

/** The set of secret names a pod references (the kubelet's getSecretNames). */
export function podSecretNames(pod: V1Pod | unknown): Set<string> {
  const names = new Set<string>();
  visitPodSecretNames(pod, (name) => (names.add(name), true));
  return names;
}

/** The set of configmap names a pod references (the kubelet's getConfigMapNames). */
export function podConfigMapNames(pod: V1Pod | unknown): Set<string> {
  const names = new Set<string>();
  visitPodConfigMapNames(pod, (name) => (names.add(name), true));
  return names;
}
