// Ports the manager half of cache_based_manager_test.go (A7–A10 of the reference): the diff
// on re-registration, idempotence, refcounts across pods and UIDs; plus malformed pods.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import { resources } from '../../lib/api/resource.js';
import { CacheBasedManager } from '../../lib/manager/cache-based-manager.js';
import { podSecretNames } from '../../lib/manager/pod-references.js';
import { TtlObjectStore } from '../../lib/manager/ttl-object-store.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';

interface SecretsToAttach {
  imagePullSecretNames?: string[];
  containerEnvSecrets?: Array<{ envVarNames?: string[]; envFromNames?: string[] }>;
}

/** The upstream test helper podWithSecretsAndUID. */
function podWithSecrets(ns: string, podName: string, toAttach: SecretsToAttach, uid = `${ns}/${podName}`): V1Pod {
  return {
    metadata: { namespace: ns, name: podName, uid },
    spec: {
      imagePullSecrets: (toAttach.imagePullSecretNames ?? []).map((name) => ({ name })),
      containers: (toAttach.containerEnvSecrets ?? []).map((c, i) => ({
        name: `container-${i}`,
        envFrom: (c.envFromNames ?? []).map((name) => ({ secretRef: { name } })),
        env: (c.envVarNames ?? []).map((name) => ({ name: 'v', valueFrom: { secretKeyRef: { name, key: 'k' } } })),
      })),
    },
  };
}

function setup(opts: { ttl?: number; clock?: FakeClock } = {}) {
  const source = new MemorySource<V1Secret>(resources.secrets).onGet(() => ({}));
  const store = new TtlObjectStore<V1Secret>({
    getObject: (ns, name, o) => source.get(ns, name, o),
    ttl: opts.ttl ?? 60_000,
    clock: opts.clock ?? new FakeClock(),
  });
  const manager = new CacheBasedManager(store, podSecretNames);
  return { source, store, manager };
}

describe('CacheBasedManager', () => {
  it('re-registering an updated pod fetches only the newly referenced objects (TestCacheInvalidation)', async () => {
    const { source, store, manager } = setup();
    const s1 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s1'], envFromNames: ['s10'] }, { envVarNames: ['s2'] }] };
    const s2 = {
      imagePullSecretNames: ['s1'],
      containerEnvSecrets: [{ envVarNames: ['s1'] }, { envVarNames: ['s2'], envFromNames: ['s20'] }, { envVarNames: ['s3'] }],
    };
    const getAll = async (names: string[]) => {
      source.clearActions();
      for (const n of names) await store.get('ns1', n);
      return source.actions.map((a) => a.name).sort();
    };

    manager.registerPod(podWithSecrets('ns1', 'name1', s1));
    expect(await getAll(['s1', 's10', 's2'])).toEqual(['s1', 's10', 's2']);

    manager.registerPod(podWithSecrets('ns1', 'name1', s2)); // same UID: an update
    expect(await getAll(['s1', 's2', 's20', 's3'])).toEqual(['s20', 's3']);

    manager.registerPod(podWithSecrets('ns1', 'name2', s1)); // a new pod invalidates what it references
    expect(await getAll(['s1', 's10', 's2', 's20', 's3'])).toEqual(['s1', 's10', 's2']);

    // A first fetch that fails is reported, not swallowed.
    manager.registerPod(podWithSecrets('dummy-ns', 'dummy-name', s1));
    source.onGet(() => {
      throw new Error('expired');
    });
    await expect(manager.getObject('dummy-ns', 's2')).rejects.toThrow('expired');
  });

  it('registering the same pod twice counts once, and unregistering is idempotent (TestRegisterIdempotence)', () => {
    const { store, manager } = setup();
    const spec = { imagePullSecretNames: ['s1'] };
    const refs = () => store.referenceCount('ns1', 's1');
    manager.registerPod(podWithSecrets('ns1', 'name1', spec));
    expect(refs()).toBe(1);
    manager.registerPod(podWithSecrets('ns1', 'name1', spec));
    expect(refs()).toBe(1);
    manager.registerPod(podWithSecrets('ns1', 'name2', spec));
    expect(refs()).toBe(2);
    manager.unregisterPod(podWithSecrets('ns1', 'name1', spec));
    expect(refs()).toBe(1);
    manager.unregisterPod(podWithSecrets('ns1', 'name1', spec));
    expect(refs()).toBe(1);
    manager.unregisterPod(podWithSecrets('ns1', 'name2', spec));
    expect(refs()).toBe(0);
  });

  it('keeps exact reference counts across registrations, updates and unregistrations (TestCacheRefcounts)', () => {
    const { store, manager } = setup();
    const s1 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s1'], envFromNames: ['s10'] }, { envVarNames: ['s2'] }, { envVarNames: ['s3'] }] };
    const s2 = { imagePullSecretNames: ['s2'], containerEnvSecrets: [{ envVarNames: ['s4'] }, { envVarNames: ['s5'], envFromNames: ['s50'] }] };
    const s3 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s3'], envFromNames: ['s30'] }, { envVarNames: ['s5'] }] };
    const s4 = { imagePullSecretNames: ['s3'], containerEnvSecrets: [{ envVarNames: ['s6'] }, { envFromNames: ['s60'] }] };
    const s5 = { containerEnvSecrets: [{ envVarNames: ['s7'] }, { envFromNames: ['s70'] }] };
    const reg = (name: string, spec: SecretsToAttach) => manager.registerPod(podWithSecrets('ns1', name, spec));
    const unreg = (name: string, spec: SecretsToAttach) => manager.unregisterPod(podWithSecrets('ns1', name, spec));

    reg('name1', s1);
    reg('name2', s1);
    reg('name2', s2);
    reg('name3', s2);
    reg('name4', s2);
    unreg('name3', s2);
    reg('name5', s3);
    reg('name6', s3);
    reg('name7', s4);
    unreg('name7', s4);
    reg('other-name', s1);
    reg('other-name', s2);
    unreg('other-name', s2);
    reg('noop-pod', s5);
    reg('noop-pod', s5);

    const expected: Record<string, number> = { s1: 3, s10: 1, s2: 3, s3: 3, s30: 2, s4: 2, s5: 4, s50: 2, s6: 0, s60: 0, s7: 1, s70: 1 };
    for (const [secret, count] of Object.entries(expected)) expect([secret, store.referenceCount('ns1', secret)]).toEqual([secret, count]);

    // Same namespace and name, different UIDs: separate registrations; unregister uses the stored spec.
    const refs = (s: string) => store.referenceCount('nsinterleaved', s);
    expect([refs('secret1'), refs('secret2')]).toEqual([0, 0]);
    manager.registerPod(podWithSecrets('nsinterleaved', 'pod', { containerEnvSecrets: [{ envVarNames: ['secret1'] }] }, 'poduid1'));
    expect([refs('secret1'), refs('secret2')]).toEqual([1, 0]);
    manager.registerPod(podWithSecrets('nsinterleaved', 'pod', { containerEnvSecrets: [{ envVarNames: ['secret2'] }] }, 'poduid2'));
    expect([refs('secret1'), refs('secret2')]).toEqual([1, 1]);
    manager.unregisterPod(podWithSecrets('nsinterleaved', 'pod', {}, 'poduid1'));
    expect([refs('secret1'), refs('secret2')]).toEqual([0, 1]);
    manager.unregisterPod(podWithSecrets('nsinterleaved', 'pod', {}, 'poduid2'));
    expect([refs('secret1'), refs('secret2')]).toEqual([0, 0]);
  });

  it('makes exactly the objects of registered pods gettable, per namespace (TestCacheBasedSecretManager)', async () => {
    const { manager } = setup({ ttl: 0 });
    const s1 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s1', 's2'], envFromNames: ['s20'] }] };
    const s2 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s3', 's4'], envFromNames: ['s40'] }] };
    const s3 = { imagePullSecretNames: ['s5'], containerEnvSecrets: [{ envVarNames: ['s6'], envFromNames: ['s60'] }] };
    manager.registerPod(podWithSecrets('ns1', 'name1', s1));
    manager.registerPod(podWithSecrets('ns1', 'name1', s2));
    manager.registerPod(podWithSecrets('ns2', 'name2', s2));
    manager.registerPod(podWithSecrets('ns3', 'name', s3));
    manager.unregisterPod(podWithSecrets('ns3', 'name', s3));

    for (const ns of ['ns1', 'ns2', 'ns3']) {
      for (const secret of ['s1', 's2', 's3', 's4', 's5', 's6', 's20', 's40', 's50']) {
        const shouldExist = ['s1', 's3', 's4', 's40'].includes(secret) && ns !== 'ns3';
        const result = manager.getObject(ns, secret);
        if (shouldExist) await expect(result).resolves.toBeDefined();
        else await expect(result).rejects.toThrow(`object "${ns}"/"${secret}" not registered`);
      }
    }
  });

  it('unregisters with the references recorded at registration even if the caller mutated its pod object', () => {
    const { store, manager } = setup();
    const pod = podWithSecrets('ns', 'p', { imagePullSecretNames: ['a'] });
    manager.registerPod(pod);
    pod.spec!.imagePullSecrets = [{ name: 'b' }];
    manager.unregisterPod(pod);
    expect(store.referenceCount('ns', 'a')).toBe(0);
    expect(store.referenceCount('ns', 'b')).toBe(0);
  });

  describe('malformed pods', () => {
    const cases: Array<[string, unknown]> = [
      ['null', null],
      ['a string', 'pod'],
      ['no metadata', { spec: { imagePullSecrets: [{ name: 's' }] } }],
      ['metadata without namespace', { metadata: { name: 'p' }, spec: { imagePullSecrets: [{ name: 's' }] } }],
      ['numeric name', { metadata: { namespace: 'ns', name: 7 } }],
      ['no spec', { metadata: { namespace: 'ns', name: 'p', uid: 'u' } }],
      ['spec is a string', { metadata: { namespace: 'ns', name: 'p', uid: 'u' }, spec: 'x' }],
      ['null lists', { metadata: { namespace: 'ns', name: 'p', uid: 'u' }, spec: { containers: null, volumes: null, imagePullSecrets: null } }],
      [
        'wrong types inside lists',
        {
          metadata: { namespace: 'ns', name: 'p', uid: 'u' },
          spec: { containers: ['c', null, { env: 'x', envFrom: [null, { secretRef: 5 }] }], volumes: [{ secret: { secretName: 12 } }], imagePullSecrets: [{ name: ['s'] }] },
        },
      ],
    ];

    for (const [what, pod] of cases) {
      it(`never throws from registerPod or unregisterPod for a pod with ${what}`, () => {
        const warnings: string[] = [];
        const logger: Logger = { debug() {}, warn: (msg: string, _f?: LogFields) => void warnings.push(msg) };
        const { store } = setup();
        const m = new CacheBasedManager(store, podSecretNames, { logger });
        expect(() => m.registerPod(pod as V1Pod)).not.toThrow();
        expect(() => m.registerPod(pod as V1Pod)).not.toThrow();
        expect(store.stats().objects).toBe(0); // no valid reference anywhere, so nothing registered in the store
        expect(() => m.unregisterPod(pod as V1Pod)).not.toThrow();
        expect(m.registeredPodCount).toBe(0);
      });
    }

    it('reports a pod it cannot identify to the logger, and keeps working for the next pod', async () => {
      const warnings: Array<[string, LogFields | undefined]> = [];
      const logger: Logger = { debug() {}, warn: (msg, f) => void warnings.push([msg, f]) };
      const { store } = setup();
      const m = new CacheBasedManager(store, podSecretNames, { logger });
      m.registerPod({ metadata: { name: 'p' } } as V1Pod);
      expect(warnings).toEqual([['cannot register pod without metadata.namespace and metadata.name', { namespace: undefined, pod: 'p' }]]);
      m.registerPod(podWithSecrets('ns', 'ok', { imagePullSecretNames: ['s'] }));
      await expect(m.getObject('ns', 's')).resolves.toBeDefined();
    });

    it('reports and skips a pod whose references cannot be computed', () => {
      const warnings: string[] = [];
      const logger: Logger = { debug() {}, warn: (msg) => void warnings.push(msg) };
      const { store } = setup();
      const m = new CacheBasedManager(
        store,
        () => {
          throw new Error('boom');
        },
        { logger },
      );
      expect(() => m.registerPod(podWithSecrets('ns', 'p', {}))).not.toThrow();
      expect(warnings).toEqual(['ignoring pod: its references could not be read']);
      expect(m.registeredPodCount).toBe(0);
    });
  });

  describe('pods whose objects misbehave when read', () => {
    // What the pod holds, and what its getters throw: none of it may reach a log line.
    const CONTENTS = 'pod-contents-hunter2';
    const thrower = (): never => {
      throw new Error(`cannot read ${CONTENTS}`);
    };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const cyclic: Record<string, unknown> = { metadata: { namespace: 'ns', name: 'p', uid: 'u' } };
    const cyclicSpec: Record<string, unknown> = { imagePullSecrets: [{ name: 'cyc' }] };
    cyclicSpec.self = cyclicSpec;
    cyclic.spec = cyclicSpec;
    (cyclic.metadata as Record<string, unknown>).owner = cyclic;
    const cases: Array<[string, unknown]> = [
      ['a metadata getter that throws', Object.defineProperty({ spec: { imagePullSecrets: [{ name: CONTENTS }] } }, 'metadata', { get: thrower, enumerable: true })],
      ['a namespace getter that throws', { metadata: Object.defineProperty({ name: 'p', uid: 'u' }, 'namespace', { get: thrower, enumerable: true }) }],
      ['a uid getter that throws', { metadata: Object.defineProperty({ namespace: 'ns', name: 'p' }, 'uid', { get: thrower, enumerable: true }) }],
      ['a spec getter that throws', Object.defineProperty({ metadata: { namespace: 'ns', name: 'p', uid: 'u' } }, 'spec', { get: thrower, enumerable: true })],
      ['a proxy whose every trap throws', new Proxy({}, { get: thrower, has: thrower, ownKeys: thrower, getPrototypeOf: thrower, getOwnPropertyDescriptor: thrower })],
      ['a revoked proxy', revoked.proxy],
      ['a proxy for metadata whose every trap throws', { metadata: new Proxy({}, { get: thrower, getPrototypeOf: thrower }) }],
      ['a container list that is a throwing proxy', { metadata: { namespace: 'ns', name: 'p', uid: 'u' }, spec: { containers: new Proxy([], { get: thrower }) } }],
      [
        'an error whose message getter throws',
        Object.defineProperty({}, 'metadata', {
          get: () => {
            throw Object.defineProperty(new Error(), 'message', { get: thrower });
          },
        }),
      ],
      [
        'a thrown non-Error whose toString throws',
        Object.defineProperty({}, 'metadata', {
          get: () => {
            throw { toString: thrower, name: CONTENTS };
          },
        }),
      ],
    ];

    for (const [what, pod] of cases) {
      it(`never throws from registerPod or unregisterPod for a pod with ${what}, and logs none of its contents`, async () => {
        const lines: string[] = [];
        const logger: Logger = { debug() {}, warn: (msg, f) => void lines.push(JSON.stringify([msg, f])) };
        const { store } = setup();
        const m = new CacheBasedManager(store, podSecretNames, { logger });
        expect(() => m.registerPod(pod as V1Pod)).not.toThrow();
        expect(() => m.unregisterPod(pod as V1Pod)).not.toThrow();
        expect(m.registeredPodCount).toBe(0);
        expect(store.stats().objects).toBe(0);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line).not.toContain(CONTENTS);
        // The manager keeps working for the next pod.
        m.registerPod(podWithSecrets('ns', 'ok', { imagePullSecretNames: ['s'] }));
        await expect(m.getObject('ns', 's')).resolves.toBeDefined();
      });
    }

    it('registers a pod whose spec refers back to itself, and releases it on unregister', () => {
      const { store } = setup();
      const m = new CacheBasedManager(store, podSecretNames);
      m.registerPod(cyclic as V1Pod);
      expect(store.referenceCount('ns', 'cyc')).toBe(1);
      m.unregisterPod(cyclic as V1Pod);
      expect(store.referenceCount('ns', 'cyc')).toBe(0);
    });

    it('logs neither the message of an error thrown by a reference visitor nor the pod', () => {
      const lines: string[] = [];
      const logger: Logger = { debug() {}, warn: (msg, f) => void lines.push(JSON.stringify([msg, f])) };
      const { store } = setup();
      const m = new CacheBasedManager(
        store,
        (pod) => {
          throw new Error(`bad pod ${JSON.stringify(pod)}`);
        },
        { logger },
      );
      const pod = podWithSecrets('ns', 'p', { imagePullSecretNames: [CONTENTS] });
      m.registerPod(pod);
      expect(lines).toEqual([JSON.stringify(['ignoring pod: its references could not be read', { namespace: 'ns', pod: 'p', error: 'Error' }])]);
    });

    it('copies the names a visitor returns, so a visitor reusing one set cannot change what is released', () => {
      const { store } = setup();
      const reused = new Set<string>();
      const m = new CacheBasedManager(store, (pod) => {
        reused.clear();
        reused.add(pod.metadata!.name === 'p1' ? 'a' : 'b');
        return reused;
      });
      m.registerPod(podWithSecrets('ns', 'p1', {}));
      m.registerPod(podWithSecrets('ns', 'p2', {}));
      m.unregisterPod(podWithSecrets('ns', 'p1', {}));
      expect(store.referenceCount('ns', 'a')).toBe(0);
      expect(store.referenceCount('ns', 'b')).toBe(1);
    });
  });

  it('closes its store at the end of an `await using` block, also when the block throws', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { namespace: 'ns1', name: 's1' } });
    const clock = new FakeClock();
    await expectAwaitUsingCloses(
      () => new CacheBasedManager(new WatchObjectStore<V1Secret>({ source, clock }), podSecretNames),
      async () => {
        await settle();
        return source.openWatchCount === 0 && clock.pendingTimers() === 0;
      },
      async (manager) => {
        manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['s1'] }));
        await manager.getObject('ns1', 's1');
      },
    );
  });
});
