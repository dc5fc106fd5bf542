/**
 * A prom-client adapter for the container-profile cache's metrics, under node-agent's metric
 * names, so existing dashboards keep working. The library only defines the interface (it does
 * not depend on prom-client); copy this adapter into an agent that uses prom-client.
 *
 *   npx tsc -p tsconfig.build.json && node dist/examples/prom-metrics.js
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ContainerProfileCache,
  containerProfileMetricNames as names,
  containerProfileName,
  instanceIDFromPod,
  profileResources,
  type ApplicationProfile,
  type ContainerProfile,
  type ContainerProfileCacheMetrics,
  type NetworkNeighborhood,
} from '../lib/profiles/index.js';
import { MemorySource, ObjectStorage } from '../lib/testing/index.js';

export function prometheusProfileMetrics(registry: Registry): ContainerProfileCacheMetrics {
  const registers = [registry];
  const entries = new Gauge({ name: names.cacheEntries, help: 'Current number of cached ContainerProfile entries per kind.', labelNames: ['kind'], registers });
  const hits = new Counter({ name: names.cacheHits, help: 'Total number of ContainerProfile cache lookups by result.', labelNames: ['result'], registers });
  const durations = new Histogram({ name: names.reconcilerDuration, help: 'Duration of ContainerProfile reconciler phases in seconds.', labelNames: ['phase'], registers });
  const evictions = new Counter({ name: names.reconcilerEvictions, help: 'Total number of ContainerProfile cache evictions by reason.', labelNames: ['reason'], registers });
  const legacyLoads = new Counter({
    name: names.legacyLoads,
    help: 'Number of times a user-authored legacy ApplicationProfile or NetworkNeighborhood was loaded into the ContainerProfileCache.',
    labelNames: ['kind', 'completeness'],
    registers,
  });
  return {
    setContainerProfileCacheEntries: (kind, count) => entries.set({ kind }, count),
    reportContainerProfileCacheHit: (hit) => hits.inc({ result: hit ? 'hit' : 'miss' }),
    // The cache reports milliseconds; Prometheus durations are seconds (default buckets, as upstream).
    reportContainerProfileReconcilerDuration: (phase, ms) => durations.observe({ phase }, ms / 1000),
    reportContainerProfileReconcilerEviction: (reason) => evictions.inc({ reason }),
    reportContainerProfileLegacyLoad: (kind, completeness) => legacyLoads.inc({ kind, completeness }),
  };
}

async function main(): Promise<void> {
  const registry = new Registry();
  const storage = new ObjectStorage();
  const sources = {
    containerProfiles: new MemorySource<ContainerProfile>(profileResources.containerProfiles, storage),
    applicationProfiles: new MemorySource<ApplicationProfile>(profileResources.applicationProfiles, storage),
    networkNeighborhoods: new MemorySource<NetworkNeighborhood>(profileResources.networkNeighborhoods, storage),
  };
  const pod = { metadata: { namespace: 'shop', name: 'cart-0' }, spec: { containers: [{ name: 'cart' }] } };
  const instanceID = instanceIDFromPod(pod, 'cart')!;
  sources.containerProfiles.create({ metadata: { namespace: 'shop', name: containerProfileName(instanceID) }, spec: {} });

  const cache = new ContainerProfileCache({
    sources,
    metrics: prometheusProfileMetrics(registry),
    getPod: () => pod,
    getSharedContainerData: () => ({ instanceID, wlid: 'wlid://cluster-demo/namespace-shop/pod-cart-0' }),
  });
  cache.containerCallback({ type: 'add', container: { containerID: 'c-1', containerName: 'cart', namespace: 'shop', podName: 'cart-0' } });
  await cache.idle();
  cache.getContainerProfile('c-1');
  cache.getContainerProfile('unknown');
  await cache.reconcileNow();
  await cache.close();

  const text = await registry.metrics();
  console.log(
    text
      .split('\n')
      .filter((line) => line.startsWith('node_agent_') && !line.includes('_bucket'))
      .join('\n'),
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
