/**
 * The profile-cache benchmark's fleet: 100 workloads of one pod with 3 containers each, their
 * ContainerProfiles and the overlays some workloads carry, and the writes of a round. Built the
 * same, from names alone, in the orchestrator (which seeds the server) and in every worker
 * (which feeds the cache the same containers), so the two never need to exchange it.
 */
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { SharedContainerData } from '../../lib/profiles/container-events.js';
import {
  USER_DEFINED_PROFILE_LABEL,
  containerProfileName,
  instanceIDFromPod,
  instanceIDString,
  userManagedProfileName,
  workloadSlug,
  type InstanceID,
} from '../../lib/profiles/names.js';
import { COMPLETION_ANNOTATION, STATUS_ANNOTATION } from '../../lib/profiles/profile-state.js';
import { profileResources } from '../../lib/profiles/resources.js';
import type { ApplicationProfile, ApplicationProfileContainer, ContainerProfile, NetworkNeighbor, NetworkNeighborhood } from '../../lib/profiles/types.js';
import type { ApiServer } from '../../lib/testing/api-server/index.js';
import { UPDATES } from './config.js';

/** 100 workloads × 1 pod × 3 containers: the 300 containers the issue asks for. */
const WORKLOADS = 100;
const NAMESPACES = ['shop', 'payments', 'search', 'identity', 'observability'];
/** Every 4th workload has user-managed `ug-` overlays (AP and NN), as a tuned workload would. */
const UG_EVERY = 4;
/** Every 10th pod names a user-defined overlay by label (the deprecated path, still served). */
const LABEL_OVERLAY_EVERY = 10;

export interface BenchContainer {
  id: string;
  name: string;
  namespace: string;
  podName: string;
  podLabels: Record<string, string>;
  shared: SharedContainerData;
  cpName: string;
}

export interface BenchWorkload {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  pod: V1Pod;
  containers: BenchContainer[];
  /** `ug-<workload slug>`, when the workload has user-managed overlays. */
  ugName?: string;
  /** The overlay named by the pod's user-defined-profile label, if any. */
  labelOverlay?: string;
}

const STEMS = ['cart', 'checkout', 'catalog', 'ledger', 'indexer', 'gateway', 'session', 'notifier', 'billing', 'recommender'];
const SIDECARS = ['istio-proxy', 'fluent-bit'];

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

export function buildFleet(): BenchWorkload[] {
  const fleet: BenchWorkload[] = [];
  for (let w = 0; w < WORKLOADS; w++) {
    const namespace = NAMESPACES[w % NAMESPACES.length];
    const stem = STEMS[w % STEMS.length];
    const name = `${stem}-${w}`;
    // Mostly Deployments (pods owned by a ReplicaSet), some StatefulSets and DaemonSets: the
    // three naming paths of instanceIDFromPod.
    const kind = w % 10 === 7 ? 'StatefulSet' : w % 10 === 9 ? 'DaemonSet' : 'Deployment';
    const templateHash = hex(`template/${name}`, 10).replace(/[0-9]/g, (d) => 'bcdfghjkmn'[Number(d)]);
    const labels: Record<string, string> = { app: name };
    let podName: string;
    let owner: { apiVersion: string; kind: string; name: string };
    if (kind === 'Deployment') {
      labels['pod-template-hash'] = templateHash;
      podName = `${name}-${templateHash}-${hex(`pod/${name}`, 5)}`;
      owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-${templateHash}` };
    } else if (kind === 'StatefulSet') {
      labels['controller-revision-hash'] = `${name}-${templateHash}`;
      podName = `${name}-0`;
      owner = { apiVersion: 'apps/v1', kind: 'StatefulSet', name };
    } else {
      labels['controller-revision-hash'] = templateHash;
      podName = `${name}-${hex(`pod/${name}`, 5)}`;
      owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name };
    }
    const labelOverlay = w % LABEL_OVERLAY_EVERY === 5 ? `${name}-overrides` : undefined;
    if (labelOverlay) labels[USER_DEFINED_PROFILE_LABEL] = labelOverlay;
    const containerNames = [stem, ...SIDECARS];
    const ids = containerNames.map((c) => hex(`container/${namespace}/${podName}/${c}`, 64));
    const pod: V1Pod = {
      metadata: { namespace, name: podName, uid: `pod-uid-${w}`, labels, ownerReferences: [{ ...owner, uid: `owner-uid-${w}`, controller: true }] },
      spec: { containers: containerNames.map((c) => ({ name: c, image: `registry.example/${c}:1.${w % 7}` })) },
      status: {
        phase: 'Running',
        containerStatuses: containerNames.map((c, i) => ({
          name: c,
          containerID: `containerd://${ids[i]}`,
          image: `registry.example/${c}:1.${w % 7}`,
          imageID: `registry.example/${c}@sha256:${hex(`image/${c}`, 64)}`,
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date(0) } },
        })),
      },
    };
    const wlid = `wlid://cluster-bench/namespace-${namespace}/${kind.toLowerCase()}-${name}`;
    const containers = containerNames.map((c, i): BenchContainer => {
      const instanceID = instanceIDFromPod(pod, c)!;
      return {
        id: ids[i],
        name: c,
        namespace,
        podName,
        podLabels: labels,
        shared: { instanceID, wlid, preRunningContainer: true },
        cpName: containerProfileName(instanceID),
      };
    });
    const slug = workloadSlug(containers[0].shared.instanceID);
    fleet.push({
      namespace,
      kind,
      name,
      pod,
      containers,
      ugName: w % UG_EVERY === 0 ? userManagedProfileName(slug) : undefined,
      labelOverlay,
    });
  }
  return fleet;
}

/** What node-agent learns about a container in a few minutes: a few KiB of JSON. */
export function containerProfileOf(w: BenchWorkload, c: BenchContainer, marker?: string): ContainerProfile {
  const id: InstanceID = c.shared.instanceID;
  const bin = `/usr/local/bin/${c.name}`;
  const execs = [
    { path: bin, args: [bin, '--config', `/etc/${c.name}/config.yaml`] },
    { path: '/bin/sh', args: ['/bin/sh', '-c', 'healthcheck'] },
  ];
  for (let i = 0; i < 8; i++) execs.push({ path: `/usr/bin/tool-${i}`, args: [`tool-${i}`, `--flag=${i}`] });
  if (marker) execs.push({ path: marker, args: [marker] });
  const egress: NetworkNeighbor[] = Array.from({ length: 4 }, (_, i) => ({
    identifier: hex(`egress/${w.name}/${c.name}/${i}`, 64),
    type: i === 0 ? 'external' : 'internal',
    dnsNames: i === 0 ? ['api.partner.example.'] : [`svc-${i}.${w.namespace}.svc.cluster.local.`],
    ports: [{ name: `TCP-${8080 + i}`, protocol: 'TCP', port: 8080 + i }],
    podSelector: i === 0 ? null : { matchLabels: { app: `svc-${i}` } },
  }));
  return {
    metadata: {
      namespace: w.namespace,
      name: c.cpName,
      labels: {
        'kubescape.io/workload-api-group': 'apps',
        'kubescape.io/workload-api-version': 'v1',
        'kubescape.io/workload-kind': w.kind,
        'kubescape.io/workload-name': w.name,
        'kubescape.io/workload-namespace': w.namespace,
        'kubescape.io/workload-container-name': c.name,
      },
      annotations: {
        [COMPLETION_ANNOTATION]: 'complete',
        [STATUS_ANNOTATION]: 'completed',
        'kubescape.io/instance-id': instanceIDString(id),
        'kubescape.io/wlid': c.shared.wlid,
      },
    },
    spec: {
      architectures: ['amd64'],
      imageID: `registry.example/${c.name}@sha256:${hex(`image/${c.name}`, 64)}`,
      imageTag: `registry.example/${c.name}:1.0`,
      capabilities: ['CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'],
      execs,
      opens: Array.from({ length: 40 }, (_, i) => ({
        path: i % 4 === 0 ? `/etc/${c.name}/conf.d/${i}.yaml` : `/usr/lib/x86_64-linux-gnu/lib${i}.so.1`,
        flags: ['O_RDONLY', 'O_CLOEXEC'],
      })),
      syscalls: SYSCALLS,
      endpoints: [{ endpoint: ':8080/healthz', methods: ['GET'], internal: true, direction: 'inbound' }],
      rulePolicies: { R0001: { processAllowed: [bin] } },
      ingress: [
        {
          identifier: hex(`ingress/${w.name}`, 64),
          type: 'internal',
          ports: [{ name: 'TCP-8080', protocol: 'TCP', port: 8080 }],
          podSelector: { matchLabels: { app: 'gateway' } },
        },
      ],
      egress,
    },
  };
}

const SYSCALLS = (
  'accept4 access arch_prctl bind brk capget capset chdir clone close connect dup3 epoll_create1 epoll_ctl epoll_pwait ' +
  'execve exit_group fchdir fcntl fstat fstatfs futex getcwd getdents64 getpeername getpid getppid getrandom getsockname ' +
  'getsockopt gettid getuid ioctl listen lseek madvise mmap mprotect munmap nanosleep newfstatat openat pipe2 prctl pread64 ' +
  'prlimit64 read readlinkat recvfrom rt_sigaction rt_sigprocmask rt_sigreturn sched_getaffinity sched_yield sendto ' +
  'set_robust_list set_tid_address setgid setgroups setsockopt setuid sigaltstack socket statfs tgkill uname write'
).split(' ');

/** A user-managed or label-referenced AP: a section for every container of the pod. */
export function applicationProfileOf(w: BenchWorkload, name: string, marker?: string): ApplicationProfile {
  const containers = w.containers.map((c): ApplicationProfileContainer => {
    const execs = [{ path: '/usr/bin/curl', args: ['curl', '-sf', 'http://localhost:8080/healthz'] }];
    if (marker) execs.push({ path: marker, args: [marker] });
    return { name: c.name, execs, opens: [{ path: `/var/run/${c.name}.sock`, flags: ['O_RDWR'] }], capabilities: ['CAP_NET_RAW'] };
  });
  return { metadata: { namespace: w.namespace, name }, spec: { architectures: ['amd64'], containers } };
}

export function networkNeighborhoodOf(w: BenchWorkload, name: string): NetworkNeighborhood {
  return {
    metadata: { namespace: w.namespace, name },
    spec: {
      matchLabels: { app: w.name },
      containers: w.containers.map((c) => ({
        name: c.name,
        egress: [
          {
            identifier: hex(`overlay-egress/${w.name}/${c.name}`, 64),
            type: 'external',
            dnsNames: ['telemetry.example.'],
            ports: [{ name: 'TCP-443', protocol: 'TCP', port: 443 }],
          },
        ],
      })),
    },
  };
}

/** Every object the fleet's containers read, as the orchestrator seeds the server with them. */
export function seed(server: ApiServer, fleet: BenchWorkload[]): number {
  let objects = 0;
  const put = (rt: (typeof profileResources)[keyof typeof profileResources], obj: ContainerProfile | ApplicationProfile | NetworkNeighborhood) => {
    server.storage.create(rt, obj);
    objects++;
  };
  for (const w of fleet) {
    for (const c of w.containers) put(profileResources.containerProfiles, containerProfileOf(w, c));
    for (const overlay of [w.ugName, w.labelOverlay]) {
      if (!overlay) continue;
      put(profileResources.applicationProfiles, applicationProfileOf(w, overlay));
      put(profileResources.networkNeighborhoods, networkNeighborhoodOf(w, overlay));
    }
  }
  return objects;
}

/**
 * The writes of one round: mostly one container's ContainerProfile (node-agent's learning
 * publishing an update), every 4th a workload's `ug-` AP (a user widening a profile), which
 * must reach all 3 containers of the workload. A different container or workload each time.
 */
export function plannedUpdates(fleet: BenchWorkload[]): Array<{ kind: 'cp'; workload: BenchWorkload; container: BenchContainer } | { kind: 'ug-ap'; workload: BenchWorkload }> {
  const containers = fleet.flatMap((w) => w.containers.map((c) => ({ workload: w, container: c })));
  const tuned = fleet.filter((w) => w.ugName);
  return Array.from({ length: UPDATES }, (_, i) => {
    if (i % 4 === 3 && tuned.length > 0) return { kind: 'ug-ap' as const, workload: tuned[(i >> 2) % tuned.length] };
    // 119 is coprime with 300: successive writes land on distinct containers across workloads.
    return { kind: 'cp' as const, ...containers[(i * 119) % containers.length] };
  });
}
