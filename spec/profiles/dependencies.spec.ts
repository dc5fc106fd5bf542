// Which objects a container depends on, by role, and how one round of reads of them is made.
import { describe, expect, it } from '@jest/globals';
import { StatusError, newNotFound } from '../../lib/api/errors.js';
import type { Store } from '../../lib/manager/interfaces.js';
import { PROFILE_ROLES, dependenciesOf, gatherInputs, hasAnyInput, readDependencies, storeFor } from '../../lib/profiles/dependencies.js';
import type { ProfileStores } from '../../lib/profiles/profile-stores.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';

/** A store answering from `objects` by name (NotFound otherwise), recording every get. */
function storeOf(kind: string, objects: Record<string, unknown>, gets: string[]): Store<any> {
  return {
    addReference() {},
    deleteReference() {},
    async get(namespace, name) {
      gets.push(`${kind} ${namespace}/${name}`);
      if (name === 'broken') throw new StatusError(500, 'InternalError', 'boom');
      if (!(name in objects)) throw newNotFound(kind, name);
      return objects[name];
    },
  };
}

describe('dependenciesOf', () => {
  it('always names the ContainerProfile, and the overlays only when the container has them', () => {
    expect(dependenciesOf({ namespace: 'ns', cpName: 'cp-1', workloadName: '', overlayName: '' })).toEqual({ cp: { namespace: 'ns', name: 'cp-1' } });
    expect(dependenciesOf({ namespace: 'ns', cpName: 'cp-1', workloadName: 'replicaset-web-5d8f', overlayName: 'override' })).toEqual({
      cp: { namespace: 'ns', name: 'cp-1' },
      userManagedAP: { namespace: 'ns', name: 'ug-replicaset-web-5d8f' },
      userManagedNN: { namespace: 'ns', name: 'ug-replicaset-web-5d8f' },
      userAP: { namespace: 'ns', name: 'override' },
      userNN: { namespace: 'ns', name: 'override' },
    });
  });
});

describe('storeFor', () => {
  it('reads the learned profile from the ContainerProfile store and each overlay from its kind’s store', () => {
    const stores = { containerProfiles: storeOf('cp', {}, []), applicationProfiles: storeOf('ap', {}, []), networkNeighborhoods: storeOf('nn', {}, []) };
    expect(PROFILE_ROLES.map((role) => storeFor(stores, role))).toEqual([
      stores.containerProfiles,
      stores.applicationProfiles,
      stores.networkNeighborhoods,
      stores.applicationProfiles,
      stores.networkNeighborhoods,
    ]);
  });
});

describe('readDependencies', () => {
  const clock = new FakeClock();
  const opts = { clock, budget: 1_000, signal: new AbortController().signal };

  it('reads each named dependency from its store and nothing for roles the container lacks', async () => {
    const gets: string[] = [];
    const stores: ProfileStores = {
      containerProfiles: storeOf('cp', { 'cp-1': { metadata: { name: 'cp-1' } } }, gets),
      applicationProfiles: storeOf('ap', {}, gets),
      networkNeighborhoods: storeOf('nn', {}, gets),
    };
    const reads = await readDependencies(stores, dependenciesOf({ namespace: 'ns', cpName: 'cp-1', workloadName: '', overlayName: 'broken' }), opts);
    expect(gets).toEqual(['cp ns/cp-1', 'ap ns/broken', 'nn ns/broken']);
    expect(reads.cp).toEqual({ status: 'found', object: { metadata: { name: 'cp-1' } } });
    expect(reads.userAP).toMatchObject({ status: 'failed' });
    expect(reads.userNN).toMatchObject({ status: 'failed' });
    expect(Object.keys(reads).sort()).toEqual(['cp', 'userAP', 'userNN']);
  });

  it('reports an object that does not exist as absent, not failed', async () => {
    const stores: ProfileStores = { containerProfiles: storeOf('cp', {}, []), applicationProfiles: storeOf('ap', {}, []), networkNeighborhoods: storeOf('nn', {}, []) };
    const reads = await readDependencies(stores, dependenciesOf({ namespace: 'ns', cpName: 'missing', workloadName: 'w', overlayName: '' }), opts);
    expect(reads).toEqual({ cp: { status: 'absent' }, userManagedAP: { status: 'absent' }, userManagedNN: { status: 'absent' } });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('gatherInputs', () => {
  it('keeps found objects as inputs, lists failed reads by role, and leaves absent objects out of both', () => {
    const cp = { metadata: { name: 'cp-1', resourceVersion: '3' } };
    const error = new Error('timeout');
    const gathered = gatherInputs({ cp: { status: 'found', object: cp }, userManagedAP: { status: 'absent' }, userAP: { status: 'failed', error } });
    expect(gathered.inputs).toEqual({ cp });
    expect(gathered.inputs.cp).toBe(cp);
    expect(gathered.failed).toEqual([{ role: 'userAP', error }]);
  });
});

describe('hasAnyInput', () => {
  it('holds when any one role has an object, whichever it is', () => {
    expect(hasAnyInput({})).toBe(false);
    expect(hasAnyInput({ cp: undefined, userAP: undefined })).toBe(false);
    for (const role of PROFILE_ROLES) expect(hasAnyInput({ [role]: { metadata: {} } })).toBe(true);
  });
});
