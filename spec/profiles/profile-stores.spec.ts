// The stores behind the profile cache: which strategy gives which store, which of them are
// event-driven, and that the ones built from sources close cleanly.
import { describe, expect, it } from '@jest/globals';
import { isObservableStore } from '../../lib/manager/interfaces.js';
import { TtlObjectStore } from '../../lib/manager/ttl-object-store.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { createProfileStores } from '../../lib/profiles/profile-stores.js';
import { profileResources } from '../../lib/profiles/resources.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from '../../lib/profiles/types.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { noopLogger } from '../../lib/util/logger.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';

function sources() {
  return {
    containerProfiles: new MemorySource<ContainerProfile>(profileResources.containerProfiles),
    applicationProfiles: new MemorySource<ApplicationProfile>(profileResources.applicationProfiles),
    networkNeighborhoods: new MemorySource<NetworkNeighborhood>(profileResources.networkNeighborhoods),
  };
}

describe('profile stores', () => {
  it('names the three kubescape storage resources', () => {
    expect(Object.values(profileResources).map((r) => `${r.group}/${r.version}/${r.resource}`)).toEqual([
      'spdx.softwarecomposition.kubescape.io/v1beta1/containerprofiles',
      'spdx.softwarecomposition.kubescape.io/v1beta1/applicationprofiles',
      'spdx.softwarecomposition.kubescape.io/v1beta1/networkneighborhoods',
    ]);
    expect(Object.values(profileResources).every((r) => r.namespaced)).toBe(true);
  });

  it('builds observable watch stores, and closes them with every reflector and timer', async () => {
    const clock = new FakeClock();
    const src = sources();
    const stores = createProfileStores(src, { strategy: 'watch', clock, logger: noopLogger, ttl: 0 });
    expect(stores.containerProfiles).toBeInstanceOf(WatchObjectStore);
    expect(isObservableStore(stores.containerProfiles)).toBe(true);
    stores.containerProfiles.addReference('ns', 'cp', 'container-1');
    await settle();
    expect(src.containerProfiles.openWatchCount).toBe(1);
    await stores.close();
    expect(src.containerProfiles.openWatchCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('builds TTL stores, which are not observable, over the sources’ GETs', async () => {
    const src = sources();
    const stores = createProfileStores(src, { strategy: 'ttl', clock: new FakeClock(), logger: noopLogger, ttl: 1_000 });
    expect(stores.applicationProfiles).toBeInstanceOf(TtlObjectStore);
    expect(isObservableStore(stores.applicationProfiles)).toBe(false);
    src.applicationProfiles.create({ metadata: { namespace: 'ns', name: 'ap' } });
    stores.applicationProfiles.addReference('ns', 'ap', 'container-1');
    await stores.applicationProfiles.get('ns', 'ap');
    await stores.applicationProfiles.get('ns', 'ap');
    expect(src.applicationProfiles.count('get')).toBe(1);
    await stores.close();
  });

  it('closes the stores it built at the end of an `await using` block, also when the block throws', async () => {
    let src = sources();
    const clock = new FakeClock();
    await expectAwaitUsingCloses(
      () => {
        src = sources();
        return createProfileStores(src, { strategy: 'watch', clock, ttl: 0 });
      },
      async () => {
        await settle();
        return src.containerProfiles.openWatchCount === 0 && clock.pendingTimers() === 0;
      },
      async (stores) => {
        stores.containerProfiles.addReference('ns', 'cp', 'container-1');
        await settle();
      },
    );
  });
});
