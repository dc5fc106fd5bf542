/**
 * The container-profile cache on the in-memory source: a container is added, its learned
 * profile is served, a user edits the workload's overlay and the change is served at once,
 * without waiting for a reconciler tick; then close() releases every watch. It shows the event
 * path that replaces node-agent's periodic refresh.
 *
 *   npx tsc -p tsconfig.build.json && node dist/examples/profile-cache.js
 */
import type { V1Pod } from '@kubernetes/client-node';
import {
  ContainerProfileCache,
  USER_DEFINED_PROFILE_LABEL,
  containerProfileName,
  instanceIDFromPod,
  profileResources,
  type ApplicationProfile,
  type ContainerProfile,
  type ContainerProfileEntry,
  type NetworkNeighborhood,
} from '../lib/profiles/index.js';
import { MemorySource, ObjectStorage } from '../lib/testing/index.js';

const pod: V1Pod = {
  metadata: { namespace: 'shop', name: 'cart-0', uid: 'pod-uid', labels: { [USER_DEFINED_PROFILE_LABEL]: 'cart-extras' } },
  spec: { containers: [{ name: 'cart', image: 'cart:1.0' }] },
};
const instanceID = instanceIDFromPod(pod, 'cart')!;

async function main(): Promise<void> {
  const storage = new ObjectStorage();
  const sources = {
    containerProfiles: new MemorySource<ContainerProfile>(profileResources.containerProfiles, storage),
    applicationProfiles: new MemorySource<ApplicationProfile>(profileResources.applicationProfiles, storage),
    networkNeighborhoods: new MemorySource<NetworkNeighborhood>(profileResources.networkNeighborhoods, storage),
  };
  // What node-agent learned about the container, and the user's overlay for the workload.
  sources.containerProfiles.create({ metadata: { namespace: 'shop', name: containerProfileName(instanceID) }, spec: { execs: [{ path: '/app/cart' }] } });
  sources.applicationProfiles.create({ metadata: { namespace: 'shop', name: 'cart-extras' }, spec: { containers: [{ name: 'cart', execs: [{ path: '/bin/sh' }] }] } });

  let rebuilt: (entry: ContainerProfileEntry) => void = () => {};
  const cache = new ContainerProfileCache({
    sources,
    getPod: () => pod,
    getSharedContainerData: () => ({ instanceID, wlid: 'wlid://cluster-demo/namespace-shop/pod-cart-0' }),
    onEntryRebuilt: (_id, entry) => rebuilt(entry),
  });
  const nextEntry = () => new Promise<ContainerProfileEntry>((resolve) => (rebuilt = resolve));
  const execs = () => (cache.getContainerProfile('c-1')?.spec?.execs ?? []).map((e) => e.path).join(', ');

  const added = nextEntry();
  cache.containerCallback({
    type: 'add',
    container: { containerID: 'c-1', containerName: 'cart', pid: 4242, namespace: 'shop', podName: 'cart-0', podLabels: pod.metadata?.labels },
  });
  await added;
  console.log(`added:   execs allowed = ${execs()}`);

  const changed = nextEntry();
  const startedAt = performance.now();
  sources.applicationProfiles.put({
    metadata: { namespace: 'shop', name: 'cart-extras' },
    spec: { containers: [{ name: 'cart', execs: [{ path: '/bin/sh' }, { path: '/usr/bin/curl' }] }] },
  });
  await changed;
  console.log(`changed: execs allowed = ${execs()} (visible after ${(performance.now() - startedAt).toFixed(1)} ms, no tick)`);
  const requests = (['list', 'watch', 'get'] as const).map((verb) => `${verb}=${Object.values(sources).reduce((n, s) => n + s.count(verb), 0)}`);
  console.log(`requests: ${requests.join(' ')} (one list+watch per object, no GET)`);

  await cache.close();
  const open = Object.values(sources).reduce((n, s) => n + s.openWatchCount, 0);
  console.log(`closed:  open watches = ${open}, profile = ${cache.getContainerProfile('c-1') ?? 'none'}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
