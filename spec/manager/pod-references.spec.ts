// Ports TestPodSecrets / TestPodConfigmaps (pkg/api/v1/pod/util_test.go, §2.E and §3 of the
// reference): which pod fields reference Secrets and ConfigMaps, in which order they are
// visited, how a visitor stops the walk, and how malformed pods (which arrive from outside)
// are read without throwing.
import { describe, expect, it } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { podConfigMapNames, podSecretNames, visitPodConfigMapNames, visitPodSecretNames } from '../../lib/manager/pod-references.js';

/** Every name the visitor sees, in order, duplicates kept. */
function visited(visit: typeof visitPodSecretNames, pod: unknown): string[] {
  const names: string[] = [];
  visit(pod, (name) => {
    names.push(name);
    return true;
  });
  return names;
}

/** A visitor that records names and returns false on the names in `stopAt`. */
function stoppingVisitor(stopAt: string[]) {
  const seen: string[] = [];
  const visitor = (name: string) => {
    seen.push(name);
    return !stopAt.includes(name);
  };
  return { seen, visitor };
}

// --- TestPodSecrets ------------------------------------------------------------------------

/**
 * The upstream stub: one reference at every secret path, named after its Go struct path
 * (`name(path)` lets the same stub be built with empty names). One volume per source, plus
 * upstream's second Secret volume named after the struct path of the source itself.
 */
function secretStub(name: (path: string) => string = (p) => p): V1Pod {
  return {
    spec: {
      containers: [
        {
          name: 'c',
          envFrom: [{ secretRef: { name: name('Spec.Containers[*].EnvFrom[*].SecretRef') } }],
          env: [{ name: 'e', valueFrom: { secretKeyRef: { name: name('Spec.Containers[*].Env[*].ValueFrom.SecretKeyRef'), key: 'k' } } }],
        },
      ],
      imagePullSecrets: [{ name: name('Spec.ImagePullSecrets') }],
      initContainers: [
        {
          name: 'i',
          envFrom: [{ secretRef: { name: name('Spec.InitContainers[*].EnvFrom[*].SecretRef') } }],
          env: [{ name: 'e', valueFrom: { secretKeyRef: { name: name('Spec.InitContainers[*].Env[*].ValueFrom.SecretKeyRef'), key: 'k' } } }],
        },
      ],
      volumes: [
        { name: 'v1', azureFile: { secretName: name('Spec.Volumes[*].VolumeSource.AzureFile.SecretName'), shareName: 'share' } },
        { name: 'v2', cephfs: { monitors: ['m'], secretRef: { name: name('Spec.Volumes[*].VolumeSource.CephFS.SecretRef') } } },
        { name: 'v3', cinder: { volumeID: 'id', secretRef: { name: name('Spec.Volumes[*].VolumeSource.Cinder.SecretRef') } } },
        { name: 'v4', flexVolume: { driver: 'd', secretRef: { name: name('Spec.Volumes[*].VolumeSource.FlexVolume.SecretRef') } } },
        { name: 'v5', projected: { sources: [{ secret: { name: name('Spec.Volumes[*].VolumeSource.Projected.Sources[*].Secret') } }] } },
        { name: 'v6', rbd: { image: 'i', monitors: ['m'], secretRef: { name: name('Spec.Volumes[*].VolumeSource.RBD.SecretRef') } } },
        { name: 'v7', secret: { secretName: name('Spec.Volumes[*].VolumeSource.Secret.SecretName') } },
        { name: 'v8', secret: { secretName: name('Spec.Volumes[*].VolumeSource.Secret') } },
        {
          name: 'v9',
          scaleIO: { gateway: 'g', system: 's', secretRef: { name: name('Spec.Volumes[*].VolumeSource.ScaleIO.SecretRef') } },
        },
        {
          name: 'v10',
          iscsi: { iqn: 'q', lun: 0, targetPortal: 't', secretRef: { name: name('Spec.Volumes[*].VolumeSource.ISCSI.SecretRef') } },
        },
        { name: 'v11', storageos: { secretRef: { name: name('Spec.Volumes[*].VolumeSource.StorageOS.SecretRef') } } },
        { name: 'v12', csi: { driver: 'd', nodePublishSecretRef: { name: name('Spec.Volumes[*].VolumeSource.CSI.NodePublishSecretRef') } } },
      ],
      ephemeralContainers: [
        {
          name: 'e',
          envFrom: [{ secretRef: { name: name('Spec.EphemeralContainers[*].EphemeralContainerCommon.EnvFrom[*].SecretRef') } }],
          env: [
            {
              name: 'e',
              valueFrom: { secretKeyRef: { name: name('Spec.EphemeralContainers[*].EphemeralContainerCommon.Env[*].ValueFrom.SecretKeyRef'), key: 'k' } },
            },
          ],
        },
      ],
    },
  };
}

/** Upstream's expectedSecretPaths. */
const EXPECTED_SECRET_PATHS = [
  'Spec.Containers[*].EnvFrom[*].SecretRef',
  'Spec.Containers[*].Env[*].ValueFrom.SecretKeyRef',
  'Spec.EphemeralContainers[*].EphemeralContainerCommon.EnvFrom[*].SecretRef',
  'Spec.EphemeralContainers[*].EphemeralContainerCommon.Env[*].ValueFrom.SecretKeyRef',
  'Spec.ImagePullSecrets',
  'Spec.InitContainers[*].EnvFrom[*].SecretRef',
  'Spec.InitContainers[*].Env[*].ValueFrom.SecretKeyRef',
  'Spec.Volumes[*].VolumeSource.AzureFile.SecretName',
  'Spec.Volumes[*].VolumeSource.CephFS.SecretRef',
  'Spec.Volumes[*].VolumeSource.Cinder.SecretRef',
  'Spec.Volumes[*].VolumeSource.FlexVolume.SecretRef',
  'Spec.Volumes[*].VolumeSource.Projected.Sources[*].Secret',
  'Spec.Volumes[*].VolumeSource.RBD.SecretRef',
  'Spec.Volumes[*].VolumeSource.Secret',
  'Spec.Volumes[*].VolumeSource.Secret.SecretName',
  'Spec.Volumes[*].VolumeSource.ScaleIO.SecretRef',
  'Spec.Volumes[*].VolumeSource.ISCSI.SecretRef',
  'Spec.Volumes[*].VolumeSource.StorageOS.SecretRef',
  'Spec.Volumes[*].VolumeSource.CSI.NodePublishSecretRef',
];

/**
 * The same fields as JSON paths of the client-node model (volume sources sit directly on the
 * volume there), for the reflection check below.
 */
const EXPECTED_SECRET_JSON_PATHS = [
  'spec.containers[*].envFrom[*].secretRef',
  'spec.containers[*].env[*].valueFrom.secretKeyRef',
  'spec.ephemeralContainers[*].envFrom[*].secretRef',
  'spec.ephemeralContainers[*].env[*].valueFrom.secretKeyRef',
  'spec.imagePullSecrets',
  'spec.initContainers[*].envFrom[*].secretRef',
  'spec.initContainers[*].env[*].valueFrom.secretKeyRef',
  'spec.volumes[*].azureFile.secretName',
  'spec.volumes[*].cephfs.secretRef',
  'spec.volumes[*].cinder.secretRef',
  'spec.volumes[*].flexVolume.secretRef',
  'spec.volumes[*].projected.sources[*].secret',
  'spec.volumes[*].rbd.secretRef',
  'spec.volumes[*].secret',
  'spec.volumes[*].secret.secretName',
  'spec.volumes[*].scaleIO.secretRef',
  'spec.volumes[*].iscsi.secretRef',
  'spec.volumes[*].storageos.secretRef',
  'spec.volumes[*].csi.nodePublishSecretRef',
];

/** Fields with "secret" in the name that do not reference Secret objects (upstream's excludedSecretPaths). */
const EXCLUDED_SECRET_JSON_PATHS = ['spec.volumes[*].cephfs.secretFile'];

// --- TestPodConfigmaps ---------------------------------------------------------------------

function configMapStub(name: (path: string) => string = (p) => p): V1Pod {
  return {
    spec: {
      containers: [
        {
          name: 'c',
          envFrom: [{ configMapRef: { name: name('Spec.Containers[*].EnvFrom[*].ConfigMapRef') } }],
          env: [{ name: 'e', valueFrom: { configMapKeyRef: { name: name('Spec.Containers[*].Env[*].ValueFrom.ConfigMapKeyRef'), key: 'k' } } }],
        },
      ],
      ephemeralContainers: [
        {
          name: 'e',
          envFrom: [{ configMapRef: { name: name('Spec.EphemeralContainers[*].EphemeralContainerCommon.EnvFrom[*].ConfigMapRef') } }],
          env: [
            {
              name: 'e',
              valueFrom: {
                configMapKeyRef: { name: name('Spec.EphemeralContainers[*].EphemeralContainerCommon.Env[*].ValueFrom.ConfigMapKeyRef'), key: 'k' },
              },
            },
          ],
        },
      ],
      initContainers: [
        {
          name: 'i',
          envFrom: [{ configMapRef: { name: name('Spec.InitContainers[*].EnvFrom[*].ConfigMapRef') } }],
          env: [{ name: 'e', valueFrom: { configMapKeyRef: { name: name('Spec.InitContainers[*].Env[*].ValueFrom.ConfigMapKeyRef'), key: 'k' } } }],
        },
      ],
      volumes: [
        { name: 'v1', projected: { sources: [{ configMap: { name: name('Spec.Volumes[*].VolumeSource.Projected.Sources[*].ConfigMap') } }] } },
        { name: 'v2', configMap: { name: name('Spec.Volumes[*].VolumeSource.ConfigMap') } },
      ],
    },
  };
}

const EXPECTED_CONFIGMAP_PATHS = [
  'Spec.Containers[*].EnvFrom[*].ConfigMapRef',
  'Spec.Containers[*].Env[*].ValueFrom.ConfigMapKeyRef',
  'Spec.EphemeralContainers[*].EphemeralContainerCommon.EnvFrom[*].ConfigMapRef',
  'Spec.EphemeralContainers[*].EphemeralContainerCommon.Env[*].ValueFrom.ConfigMapKeyRef',
  'Spec.InitContainers[*].EnvFrom[*].ConfigMapRef',
  'Spec.InitContainers[*].Env[*].ValueFrom.ConfigMapKeyRef',
  'Spec.Volumes[*].VolumeSource.Projected.Sources[*].ConfigMap',
  'Spec.Volumes[*].VolumeSource.ConfigMap',
];

const EXPECTED_CONFIGMAP_JSON_PATHS = [
  'spec.containers[*].envFrom[*].configMapRef',
  'spec.containers[*].env[*].valueFrom.configMapKeyRef',
  'spec.ephemeralContainers[*].envFrom[*].configMapRef',
  'spec.ephemeralContainers[*].env[*].valueFrom.configMapKeyRef',
  'spec.initContainers[*].envFrom[*].configMapRef',
  'spec.initContainers[*].env[*].valueFrom.configMapKeyRef',
  'spec.volumes[*].projected.sources[*].configMap',
  'spec.volumes[*].configMap',
];

/**
 * upstream's collectResourcePaths, over the client-node model's attribute type maps instead of
 * Go reflection: every JSON path in a V1Pod leading to a field whose name contains `resource`.
 * ObjectMeta is skipped as upstream does; recursion through the same type is cut.
 */
function collectResourcePaths(resource: string, path: string, fieldName: string, type: string, seen: string[] = []): Set<string> {
  const out = new Set<string>();
  if (fieldName.toLowerCase().includes(resource.toLowerCase())) out.add(path);
  const element = /^Array<(.*)>$/.exec(type) ?? /^\{ \[key: string\]: (.*); \}$/.exec(type);
  if (element) {
    for (const p of collectResourcePaths(resource, `${path}[*]`, '', element[1], seen)) out.add(p);
    return out;
  }
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => Array<{ baseName: string; type: string }> }>)[type];
  if (!model?.getAttributeTypeMap || type === 'V1ObjectMeta' || seen.includes(type)) return out;
  for (const attr of model.getAttributeTypeMap()) {
    const child = path === '' ? attr.baseName : `${path}.${attr.baseName}`;
    for (const p of collectResourcePaths(resource, child, attr.baseName, attr.type, [...seen, type])) out.add(p);
  }
  return out;
}

describe('visitPodSecretNames (TestPodSecrets)', () => {
  it('visits exactly the expected secret paths of the full stub', () => {
    const names = new Set(visited(visitPodSecretNames, secretStub()));
    expect([...names].sort()).toEqual([...EXPECTED_SECRET_PATHS].sort());
    expect([...podSecretNames(secretStub())].sort()).toEqual([...EXPECTED_SECRET_PATHS].sort());
  });

  it('the V1Pod model has no secret-named field beyond the expected ones (upstream reflection check)', () => {
    const paths = collectResourcePaths('secret', '', '', 'V1Pod');
    for (const excluded of EXCLUDED_SECRET_JSON_PATHS) {
      expect(paths.has(excluded)).toBe(true);
      paths.delete(excluded);
    }
    expect([...paths].sort()).toEqual([...EXPECTED_SECRET_JSON_PATHS].sort());
  });

  it('visits nothing when every reference in the stub has an empty name', () => {
    expect(
      visited(
        visitPodSecretNames,
        secretStub(() => ''),
      ),
    ).toEqual([]);
    const emptyPod: V1Pod = { spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: '' } }] }] } };
    expect(
      visitPodSecretNames(emptyPod, () => {
        throw new Error('the visitor must never see an empty name');
      }),
    ).toBe(true);
    expect(podSecretNames(emptyPod).size).toBe(0);
  });

  it('does not visit cephfs.secretFile or projected serviceAccountToken, downwardAPI and clusterTrustBundle sources', () => {
    const pod: V1Pod = {
      spec: {
        containers: [{ name: 'c' }],
        volumes: [
          { name: 'ceph', cephfs: { monitors: ['m'], secretFile: '/etc/ceph/user.secret' } },
          {
            name: 'projected',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token', audience: 'secret-audience' } },
                { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
                { clusterTrustBundle: { name: 'bundle', path: 'ca.crt' } },
                { configMap: { name: 'a-configmap' } },
              ],
            },
          },
          { name: 'cm', configMap: { name: 'another-configmap' } },
          { name: 'empty', emptyDir: {} },
        ],
      },
    };
    expect(visited(visitPodSecretNames, pod)).toEqual([]);
  });

  it('visits in upstream order: pull secrets, init, regular, ephemeral containers (envFrom before env), then volumes', () => {
    const pod: V1Pod = {
      spec: {
        // Object key order is deliberately not the visiting order.
        volumes: [
          { name: 'v1', secret: { secretName: 'vol-secret' } },
          { name: 'v2', projected: { sources: [{ secret: { name: 'proj-a' } }, { configMap: { name: 'cm' } }, { secret: { name: 'proj-b' } }] } },
          { name: 'v3', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi' } } },
        ],
        ephemeralContainers: [{ name: 'e', env: [{ name: 'x', valueFrom: { secretKeyRef: { name: 'eph-env', key: 'k' } } }] }],
        containers: [
          {
            name: 'c1',
            env: [
              { name: 'x', valueFrom: { secretKeyRef: { name: 'c1-env-a', key: 'k' } } },
              { name: 'y', value: 'plain' },
              { name: 'z', valueFrom: { secretKeyRef: { name: 'c1-env-b', key: 'k' } } },
            ],
            envFrom: [{ secretRef: { name: 'c1-from' } }, { configMapRef: { name: 'cm' } }],
          },
          { name: 'c2', envFrom: [{ secretRef: { name: 'c2-from' } }] },
        ],
        initContainers: [{ name: 'i', env: [{ name: 'x', valueFrom: { secretKeyRef: { name: 'init-env', key: 'k' } } }], envFrom: [{ secretRef: { name: 'init-from' } }] }],
        imagePullSecrets: [{ name: 'pull-1' }, { name: 'pull-2' }],
      },
    };
    expect(visited(visitPodSecretNames, pod)).toEqual([
      'pull-1',
      'pull-2',
      'init-from',
      'init-env',
      'c1-from',
      'c1-env-a',
      'c1-env-b',
      'c2-from',
      'eph-env',
      'vol-secret',
      'proj-a',
      'proj-b',
      'csi',
    ]);
  });

  it('hands repeated references to the visitor each time; the name set has each once', () => {
    const pod: V1Pod = {
      spec: {
        imagePullSecrets: [{ name: 's' }],
        containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's' } }] }],
        volumes: [{ name: 'v', secret: { secretName: 's' } }],
      },
    };
    expect(visited(visitPodSecretNames, pod)).toEqual(['s', 's', 's']);
    expect([...podSecretNames(pod)]).toEqual(['s']);
  });

  it('reads a volume with several sources by its first source in upstream switch order only', () => {
    // Invalid (a volume has one source), but it must be read as upstream reads it.
    const pod = {
      spec: {
        volumes: [
          { name: 'v1', csi: { driver: 'd', nodePublishSecretRef: { name: 'csi' } }, secret: { secretName: 'secret' } },
          { name: 'v2', secret: { secretName: 'secret2' }, azureFile: { secretName: 'azure', shareName: 's' } },
          // The first set source has no name: nothing is visited for this volume.
          { name: 'v3', cephfs: { monitors: ['m'] }, rbd: { image: 'i', monitors: ['m'], secretRef: { name: 'rbd' } } },
        ],
      },
    };
    expect(visited(visitPodSecretNames, pod)).toEqual(['secret', 'azure']);
  });

  it('stops at the first false from the visitor among image pull secrets and returns false', () => {
    const { seen, visitor } = stoppingVisitor(['pull-1']);
    const pod: V1Pod = {
      spec: {
        imagePullSecrets: [{ name: 'pull-1' }, { name: 'pull-2' }],
        containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'env' } }] }],
        volumes: [{ name: 'v', secret: { secretName: 'vol' } }],
      },
    };
    expect(visitPodSecretNames(pod, visitor)).toBe(false);
    expect(seen).toEqual(['pull-1']);
  });

  it('a false inside the container walk stops the containers but not the volumes (upstream quirk)', () => {
    const { seen, visitor } = stoppingVisitor(['c1-from']);
    const pod: V1Pod = {
      spec: {
        imagePullSecrets: [{ name: 'pull' }],
        containers: [
          { name: 'c1', envFrom: [{ secretRef: { name: 'c1-from' } }], env: [{ name: 'x', valueFrom: { secretKeyRef: { name: 'c1-env', key: 'k' } } }] },
          { name: 'c2', envFrom: [{ secretRef: { name: 'c2-from' } }] },
        ],
        ephemeralContainers: [{ name: 'e', envFrom: [{ secretRef: { name: 'eph' } }] }],
        volumes: [
          { name: 'v1', secret: { secretName: 'vol-1' } },
          { name: 'v2', secret: { secretName: 'vol-2' } },
        ],
      },
    };
    // Upstream ignores VisitContainers' result, so the walk as a whole still reports true.
    expect(visitPodSecretNames(pod, visitor)).toBe(true);
    expect(seen).toEqual(['pull', 'c1-from', 'vol-1', 'vol-2']);
  });

  it('a false among volumes (including projected sources) stops the walk and returns false', () => {
    const pod: V1Pod = {
      spec: {
        containers: [],
        volumes: [
          { name: 'v1', projected: { sources: [{ secret: { name: 'p1' } }, { secret: { name: 'p2' } }] } },
          { name: 'v2', secret: { secretName: 'vol' } },
        ],
      },
    };
    const first = stoppingVisitor(['p1']);
    expect(visitPodSecretNames(pod, first.visitor)).toBe(false);
    expect(first.seen).toEqual(['p1']);
    const second = stoppingVisitor(['p2']);
    expect(visitPodSecretNames(pod, second.visitor)).toBe(false);
    expect(second.seen).toEqual(['p1', 'p2']);
  });

  it('returns true when the visitor never stops it', () => {
    expect(visitPodSecretNames(secretStub(), () => true)).toBe(true);
  });
});

describe('visitPodConfigMapNames (TestPodConfigmaps)', () => {
  it('visits exactly the expected configmap paths of the full stub', () => {
    const names = new Set(visited(visitPodConfigMapNames, configMapStub()));
    expect([...names].sort()).toEqual([...EXPECTED_CONFIGMAP_PATHS].sort());
    expect([...podConfigMapNames(configMapStub())].sort()).toEqual([...EXPECTED_CONFIGMAP_PATHS].sort());
  });

  it('the V1Pod model has no configmap-named field beyond the expected ones (upstream reflection check)', () => {
    const paths = collectResourcePaths('ConfigMap', '', '', 'V1Pod');
    expect([...paths].sort()).toEqual([...EXPECTED_CONFIGMAP_JSON_PATHS].sort());
  });

  it('visits nothing when every reference in the stub has an empty name', () => {
    expect(
      visited(
        visitPodConfigMapNames,
        configMapStub(() => ''),
      ),
    ).toEqual([]);
    const emptyPod: V1Pod = { spec: { containers: [{ name: 'c', envFrom: [{ configMapRef: { name: '' } }] }] } };
    expect(
      visitPodConfigMapNames(emptyPod, () => {
        throw new Error('the visitor must never see an empty name');
      }),
    ).toBe(true);
    expect(podConfigMapNames(emptyPod).size).toBe(0);
  });

  it('secrets and configmaps do not leak into each other', () => {
    expect(visited(visitPodConfigMapNames, secretStub())).toEqual([]);
    expect(visited(visitPodSecretNames, configMapStub())).toEqual([]);
  });

  it('does not visit projected serviceAccountToken, downwardAPI and clusterTrustBundle sources', () => {
    const pod: V1Pod = {
      spec: {
        containers: [{ name: 'c' }],
        volumes: [
          {
            name: 'projected',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token' } },
                { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
                { clusterTrustBundle: { name: 'bundle', path: 'ca.crt' } },
                { secret: { name: 'a-secret' } },
              ],
            },
          },
        ],
      },
    };
    expect(visited(visitPodConfigMapNames, pod)).toEqual([]);
  });

  it('visits in upstream order: init, regular, ephemeral containers (envFrom before env), then volumes', () => {
    const pod: V1Pod = {
      spec: {
        volumes: [
          { name: 'v1', configMap: { name: 'vol-cm' } },
          { name: 'v2', projected: { sources: [{ configMap: { name: 'proj-a' } }, { secret: { name: 's' } }, { configMap: { name: 'proj-b' } }] } },
        ],
        ephemeralContainers: [{ name: 'e', envFrom: [{ configMapRef: { name: 'eph-from' } }] }],
        containers: [
          {
            name: 'c',
            env: [{ name: 'x', valueFrom: { configMapKeyRef: { name: 'c-env', key: 'k' } } }],
            envFrom: [{ configMapRef: { name: 'c-from' } }],
          },
        ],
        initContainers: [{ name: 'i', env: [{ name: 'x', valueFrom: { configMapKeyRef: { name: 'init-env', key: 'k' } } }] }],
        imagePullSecrets: [{ name: 'not-a-configmap' }],
      },
    };
    expect(visited(visitPodConfigMapNames, pod)).toEqual(['init-env', 'c-from', 'c-env', 'eph-from', 'vol-cm', 'proj-a', 'proj-b']);
  });

  it('reads a volume with both projected and configMap sources as projected only (upstream switch order)', () => {
    const pod = {
      spec: {
        volumes: [{ name: 'v', configMap: { name: 'plain' }, projected: { sources: [{ configMap: { name: 'projected' } }] } }],
      },
    };
    expect(visited(visitPodConfigMapNames, pod)).toEqual(['projected']);
  });

  it('a false inside the container walk stops the containers but not the volumes (upstream quirk)', () => {
    const { seen, visitor } = stoppingVisitor(['init']);
    const pod: V1Pod = {
      spec: {
        initContainers: [{ name: 'i', envFrom: [{ configMapRef: { name: 'init' } }, { configMapRef: { name: 'init-2' } }] }],
        containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'regular' } }] }],
        volumes: [
          { name: 'v1', configMap: { name: 'vol-1' } },
          { name: 'v2', configMap: { name: 'vol-2' } },
        ],
      },
    };
    expect(visitPodConfigMapNames(pod, visitor)).toBe(true);
    expect(seen).toEqual(['init', 'vol-1', 'vol-2']);
  });

  it('a false among volumes stops the walk and returns false', () => {
    const pod: V1Pod = {
      spec: {
        containers: [],
        volumes: [
          { name: 'v1', configMap: { name: 'vol-1' } },
          { name: 'v2', projected: { sources: [{ configMap: { name: 'p1' } }, { configMap: { name: 'p2' } }] } },
          { name: 'v3', configMap: { name: 'vol-3' } },
        ],
      },
    };
    const atPlain = stoppingVisitor(['vol-1']);
    expect(visitPodConfigMapNames(pod, atPlain.visitor)).toBe(false);
    expect(atPlain.seen).toEqual(['vol-1']);
    const atProjected = stoppingVisitor(['p1']);
    expect(visitPodConfigMapNames(pod, atProjected.visitor)).toBe(false);
    expect(atProjected.seen).toEqual(['vol-1', 'p1']);
  });
});

describe('malformed pods', () => {
  const malformed: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'pod'],
    ['an array', [{ spec: {} }]],
    ['{}', {}],
    ['no spec', { metadata: { name: 'p', namespace: 'ns' } }],
    ['spec null', { spec: null }],
    ['spec a string', { spec: 'spec' }],
    ['spec an array', { spec: [{ imagePullSecrets: [{ name: 'x' }] }] }],
    ['null lists', { spec: { imagePullSecrets: null, initContainers: null, containers: null, ephemeralContainers: null, volumes: null } }],
    ['number lists', { spec: { imagePullSecrets: 1, initContainers: 2, containers: 3, ephemeralContainers: 4, volumes: 5 } }],
    ['string lists', { spec: { imagePullSecrets: 'abc', initContainers: 'abc', containers: 'abc', ephemeralContainers: 'abc', volumes: 'abc' } }],
    ['object lists', { spec: { imagePullSecrets: { name: 'x' }, containers: { 0: { envFrom: [{ secretRef: { name: 'x' } }] }, length: 1 } } }],
    ['containers that are strings', { spec: { containers: ['c1', 'c2'], initContainers: [''], ephemeralContainers: ['e'] } }],
    ['containers null and numbers', { spec: { containers: [null, 7, true, []] } }],
    ['env entries null', { spec: { containers: [{ env: [null, undefined, 3, 'x'], envFrom: [null, 'y', 4] }] } }],
    ['env lists of wrong type', { spec: { containers: [{ env: 'x', envFrom: { secretRef: { name: 'x' }, configMapRef: { name: 'x' } } }] } }],
    [
      'valueFrom and refs of wrong type',
      { spec: { containers: [{ env: [{ valueFrom: 'x' }, { valueFrom: { secretKeyRef: 'x', configMapKeyRef: 5 } }], envFrom: [{ secretRef: 'x', configMapRef: [] }] }] } },
    ],
    [
      'names that are numbers, objects, booleans or null',
      {
        spec: {
          imagePullSecrets: [{ name: 1 }, { name: null }, { name: { name: 'x' } }, 'x'],
          containers: [
            { envFrom: [{ secretRef: { name: 2 } }, { configMapRef: { name: true } }], env: [{ valueFrom: { secretKeyRef: { name: [] }, configMapKeyRef: { name: 3 } } }] },
          ],
          volumes: [
            { secret: { secretName: 4 } },
            { azureFile: { secretName: {} } },
            { csi: { nodePublishSecretRef: { name: 5 } } },
            { configMap: { name: 6 } },
            { projected: { sources: [{ secret: { name: 7 } }, { configMap: { name: false } }] } },
          ],
        },
      },
    ],
    [
      'volumes of wrong shape',
      {
        spec: {
          volumes: [
            null,
            'v',
            3,
            [],
            { secret: null },
            { secret: 'x' },
            { configMap: 'x' },
            { projected: null },
            { projected: { sources: 'x' } },
            { projected: { sources: [null, 'x', { secret: 'x' }, { configMap: 1 }] } },
          ],
        },
      },
    ],
  ];

  it.each(malformed)('%s: never throws and visits nothing', (_label, pod) => {
    expect(() => podSecretNames(pod)).not.toThrow();
    expect(() => podConfigMapNames(pod)).not.toThrow();
    expect(visitPodSecretNames(pod, () => true)).toBe(true);
    expect(visitPodConfigMapNames(pod, () => true)).toBe(true);
    expect([...podSecretNames(pod)]).toEqual([]);
    expect([...podConfigMapNames(pod)]).toEqual([]);
  });

  it('keeps the valid string names among malformed entries', () => {
    const pod = {
      spec: {
        imagePullSecrets: [null, 'pull-as-string', { name: 3 }, { name: 'pull' }],
        containers: [
          'c0',
          null,
          {
            envFrom: [null, { secretRef: { name: 9 } }, { secretRef: { name: 'env-from' } }, { configMapRef: { name: 'cm-from' } }],
            env: [null, { valueFrom: null }, { valueFrom: { secretKeyRef: { name: 'env' } } }, { valueFrom: { configMapKeyRef: { name: 'cm-env' } } }],
          },
        ],
        volumes: [null, { secret: { secretName: 8 } }, { secret: { secretName: 'vol' } }, { projected: { sources: [null, { configMap: { name: 'cm-proj' } }] } }],
      },
    };
    const secrets = podSecretNames(pod);
    const configMaps = podConfigMapNames(pod);
    expect([...secrets]).toEqual(['pull', 'env-from', 'env', 'vol']);
    expect([...configMaps]).toEqual(['cm-from', 'cm-env', 'cm-proj']);
    for (const name of [...secrets, ...configMaps]) expect(typeof name).toBe('string');
  });
});
