// Ports pkg/kubelet/secret/secret_manager_test.go and pkg/kubelet/configmap/configmap_manager_test.go
// (§2.C and §2.D of the reference) through SecretManager and ConfigMapManager: the
// registration matrices, the three strategies (Get, Cache, Watch), the kind check, immutable
// objects under Watch, and that secret data never leaks into error messages.
import { describe, expect, it } from '@jest/globals';
import type { V1ConfigMap, V1Pod, V1Secret } from '@kubernetes/client-node';
import { StatusError, isNotFound } from '../../lib/api/errors.js';
import { InvalidNameError } from '../../lib/api/names.js';
import { resources } from '../../lib/api/resource.js';
import type { ObjectSource } from '../../lib/api/source.js';
import { ConfigMapManager, SecretManager } from '../../lib/manager/kind-managers.js';
import { NotRegisteredError, UnexpectedObjectError } from '../../lib/manager/errors.js';
import { podSecretNames } from '../../lib/manager/pod-references.js';
import { createObjectManager, type ChangeDetectionStrategy } from '../../lib/manager/strategy.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';
import { isAbortError } from '../../lib/util/abort.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { expectAwaitUsingCloses } from '../util/dispose-contract.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The plain value a secret holds, and its base64 form as stored in `data`. */
const SECRET_VALUE = 'hunter2-very-secret-value';
const SECRET_DATA = { password: b64(SECRET_VALUE) };

/** The rejection of `p` (fails the test if `p` resolves). */
async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

function expectNoSecretData(err: Error): void {
  for (const text of [err.message, String(err), JSON.stringify(err)]) {
    expect(text).not.toContain(SECRET_VALUE);
    expect(text).not.toContain(SECRET_DATA.password);
  }
}

interface EnvRefs {
  envVarNames?: string[];
  envFromNames?: string[];
}

/** upstream podWithSecrets: pull secrets, and per entry a container with envFrom and env refs. */
function podWithSecrets(ns: string, podName: string, toAttach: { imagePullSecretNames?: string[]; containerEnvSecrets?: EnvRefs[] }): V1Pod {
  return {
    metadata: { namespace: ns, name: podName, uid: `${ns}/${podName}` },
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

/** upstream podWithConfigMaps: per entry a container with envFrom and env refs, plus configmap volumes. */
function podWithConfigMaps(ns: string, podName: string, toAttach: { containerEnvConfigMaps?: EnvRefs[]; volumes?: string[] }): V1Pod {
  return {
    metadata: { namespace: ns, name: podName, uid: `${ns}/${podName}` },
    spec: {
      containers: (toAttach.containerEnvConfigMaps ?? []).map((c, i) => ({
        name: `container-${i}`,
        envFrom: (c.envFromNames ?? []).map((name) => ({ configMapRef: { name } })),
        env: (c.envVarNames ?? []).map((name) => ({ name: 'v', valueFrom: { configMapKeyRef: { name, key: 'k' } } })),
      })),
      volumes: (toAttach.volumes ?? []).map((name) => ({ name, configMap: { name } })),
    },
  };
}

const NAMESPACES = ['ns1', 'ns2', 'ns3'];
const OBJECT_NAMES = ['s1', 's2', 's3', 's4', 's5', 's6', 's20', 's40', 's50'];

/** A source holding every object of the matrix, so only registration decides the outcome. */
function seeded<T extends V1Secret | V1ConfigMap>(source: MemorySource<T>): MemorySource<T> {
  for (const ns of NAMESPACES) for (const name of OBJECT_NAMES) source.create({ metadata: { name, namespace: ns }, data: { key: `${ns}/${name}` } } as unknown as T);
  return source;
}

/** upstream checkObject: registered objects get without error; others fail with the exact not-registered message. */
async function checkObject(get: (ns: string, name: string) => Promise<V1Secret | V1ConfigMap>, ns: string, name: string, shouldExist: boolean) {
  if (shouldExist) {
    const obj = await get(ns, name);
    expect(obj.metadata).toMatchObject({ namespace: ns, name });
  } else {
    const err = await rejectionOf(get(ns, name));
    expect(err).toBeInstanceOf(NotRegisteredError);
    expect(err.message).toBe(`object "${ns}"/"${name}" not registered`);
  }
}

function watchOptions(clock: FakeClock) {
  return { clock, resyncInterval: 60_000 };
}

describe('SecretManager (TestCacheBasedSecretManager)', () => {
  const s1 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s1'] }, { envVarNames: ['s2'] }, { envFromNames: ['s20'] }] };
  const s2 = { imagePullSecretNames: ['s1'], containerEnvSecrets: [{ envVarNames: ['s3'] }, { envVarNames: ['s4'] }, { envFromNames: ['s40'] }] };
  const s3 = { imagePullSecretNames: ['s5'], containerEnvSecrets: [{ envVarNames: ['s6'] }, { envFromNames: ['s60'] }] };

  async function runMatrix(strategy: ChangeDetectionStrategy) {
    const clock = new FakeClock();
    const source = seeded(new MemorySource<V1Secret>(resources.secrets));
    const manager = new SecretManager({ source, strategy, ttl: 0, ...watchOptions(clock) });
    manager.registerPod(podWithSecrets('ns1', 'name1', s1));
    manager.registerPod(podWithSecrets('ns1', 'name1', s2)); // an update of the same pod
    manager.registerPod(podWithSecrets('ns2', 'name2', s2));
    manager.registerPod(podWithSecrets('ns3', 'name', s3));
    manager.unregisterPod(podWithSecrets('ns3', 'name', s3));

    const existing = new Set(['s1', 's3', 's4', 's40']);
    for (const ns of NAMESPACES) {
      for (const name of OBJECT_NAMES) {
        await checkObject((n, m) => manager.getSecret(n, m), ns, name, existing.has(name) && (ns === 'ns1' || ns === 'ns2'));
      }
    }
    return { source, manager };
  }

  it('Cache strategy with ttl 0: only objects referenced by a registered pod are readable', async () => {
    const { source, manager } = await runMatrix('Cache');
    // Only the 8 registered objects were fetched; "not registered" costs no API call.
    expect(source.count('get')).toBe(8);
    expect(new Set(source.actions.map((a) => `${a.namespace}/${a.name}`))).toEqual(new Set(['ns1/s1', 'ns1/s3', 'ns1/s4', 'ns1/s40', 'ns2/s1', 'ns2/s3', 'ns2/s4', 'ns2/s40']));
    expect(source.count('list') + source.count('watch')).toBe(0);
    await manager.close();
  });

  it('Watch strategy: the same matrix, one watch per registered object', async () => {
    const { source, manager } = await runMatrix('Watch');
    await settle();
    expect(source.count('get')).toBe(0);
    expect(source.openWatchCount).toBe(8);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });
});

describe('ConfigMapManager (TestCacheBasedConfigMapManager)', () => {
  const s1 = { containerEnvConfigMaps: [{ envVarNames: ['s1'] }, { envFromNames: ['s20'] }], volumes: ['s2'] };
  const s2 = { containerEnvConfigMaps: [{ envVarNames: ['s3'] }, { envVarNames: ['s4'] }, { envFromNames: ['s40'] }] };
  const s3 = { containerEnvConfigMaps: [{ envVarNames: ['s6'] }, { envFromNames: ['s60'] }] };

  async function runMatrix(strategy: ChangeDetectionStrategy) {
    const clock = new FakeClock();
    const source = seeded(new MemorySource<V1ConfigMap>(resources.configMaps));
    const manager = new ConfigMapManager({ source, strategy, ttl: 0, ...watchOptions(clock) });
    manager.registerPod(podWithConfigMaps('ns1', 'name1', s1));
    manager.registerPod(podWithConfigMaps('ns2', 'name2', s1));
    manager.registerPod(podWithConfigMaps('ns2', 'name2', s2)); // an update of the same pod
    manager.registerPod(podWithConfigMaps('ns3', 'name', s3));
    manager.unregisterPod(podWithConfigMaps('ns3', 'name', s3));

    const existing: Record<string, Set<string>> = { ns1: new Set(['s1', 's2', 's20']), ns2: new Set(['s3', 's4', 's40']), ns3: new Set() };
    for (const ns of NAMESPACES) {
      for (const name of OBJECT_NAMES) await checkObject((n, m) => manager.getConfigMap(n, m), ns, name, existing[ns].has(name));
    }
    return { source, manager };
  }

  it('Cache strategy with ttl 0: env, envFrom and volume references register configmaps', async () => {
    const { source, manager } = await runMatrix('Cache');
    expect(source.count('get')).toBe(6);
    await manager.close();
  });

  it('Watch strategy: the same matrix', async () => {
    const { source, manager } = await runMatrix('Watch');
    await settle();
    expect(source.openWatchCount).toBe(6);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });

  it('a fresh Cache or Watch manager answers "not registered" for anything (TestCachingAndWatchingConfigMapManagers)', async () => {
    for (const strategy of ['Cache', 'Watch'] as const) {
      const source = seeded(new MemorySource<V1ConfigMap>(resources.configMaps));
      const manager = new ConfigMapManager({ source, strategy, ...watchOptions(new FakeClock()) });
      const err = await rejectionOf(manager.getConfigMap('ns1', 's1'));
      expect(err.message).toBe('object "ns1"/"s1" not registered');
      expect(source.actions).toEqual([]);
      await manager.close();
      expect(source.openWatchCount).toBe(0);
    }
  });
});

describe('Get strategy (TestSimpleSecretManager / TestSimpleConfigMapManager)', () => {
  function setup() {
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA });
    const manager = new SecretManager({ source, strategy: 'Get' });
    return { source, manager };
  }

  it('reads an existing secret with its data, as a quorum read', async () => {
    const { source, manager } = setup();
    expect(manager.manager.strategy).toBe('Get');
    const secret = await manager.getSecret('ns1', 's1');
    expect(secret.data).toEqual(SECRET_DATA);
    expect(source.actions).toEqual([{ verb: 'get', namespace: 'ns1', name: 's1', options: {} }]);
    await manager.close();
  });

  it('a missing secret is a 404 NotFound StatusError that carries no secret data', async () => {
    const { manager } = setup();
    for (const [ns, name] of [
      ['ns1', 'does-not-exist'],
      ['ns2', 's1'],
    ]) {
      const err = await rejectionOf(manager.getSecret(ns, name));
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(404);
      expect(isNotFound(err)).toBe(true);
      expect(err.message).toContain(name);
      expectNoSecretData(err);
    }
    await manager.close();
  });

  it('register and unregister are no-ops: nothing needs registering and nothing is watched', async () => {
    const { source, manager } = setup();
    const pod = podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['other'] });
    manager.registerPod(pod);
    expect((await manager.getSecret('ns1', 's1')).data).toEqual(SECRET_DATA);
    manager.unregisterPod(pod);
    manager.unregisterPod(pod);
    expect((await manager.getSecret('ns1', 's1')).data).toEqual(SECRET_DATA);
    expect(source.actions.map((a) => a.verb)).toEqual(['get', 'get']);
    expect(source.openWatchCount).toBe(0);
    await manager.close();
  });

  it('ConfigMapManager: found, and NotFound in another namespace', async () => {
    const source = new MemorySource<V1ConfigMap>(resources.configMaps);
    source.create({ metadata: { name: 'cm1', namespace: 'ns1' }, data: { key: 'value' } });
    const manager = new ConfigMapManager({ source, strategy: 'Get' });
    expect((await manager.getConfigMap('ns1', 'cm1')).data).toEqual({ key: 'value' });
    expect(isNotFound(await rejectionOf(manager.getConfigMap('ns2', 'cm1')))).toBe(true);
    await manager.close();
  });
});

describe('Cache strategy (TestCachingSecretManager)', () => {
  it('serves a registered pull secret, refuses others, and forgets it after unregisterPod', async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA });
    source.create({ metadata: { name: 'not-registered', namespace: 'ns1' }, data: SECRET_DATA });
    const manager = new SecretManager({ source, strategy: 'Cache', clock });
    expect(manager.manager.strategy).toBe('Cache');
    const pod = podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['s1'] });
    manager.registerPod(pod);

    expect((await manager.getSecret('ns1', 's1')).data).toEqual(SECRET_DATA);

    const unregistered = await rejectionOf(manager.getSecret('ns1', 'not-registered'));
    expect(unregistered.message).toBe('object "ns1"/"not-registered" not registered');
    expectNoSecretData(unregistered);

    manager.unregisterPod(pod);
    const afterUnregister = await rejectionOf(manager.getSecret('ns1', 's1'));
    expect(afterUnregister.message).toContain('not registered');
    expectNoSecretData(afterUnregister);
    expect(source.count('get')).toBe(1);
    await manager.close();
  });

  it('a registered but missing secret is NotFound without secret data', async () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { name: 'other', namespace: 'ns1' }, data: SECRET_DATA });
    const manager = new SecretManager({ source, strategy: 'Cache', clock: new FakeClock() });
    manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['missing'] }));
    const err = await rejectionOf(manager.getSecret('ns1', 'missing'));
    expect(isNotFound(err)).toBe(true);
    expectNoSecretData(err);
    await manager.close();
  });
});

describe('Watch strategy (TestWatchingSecretManager)', () => {
  function setup() {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA });
    const manager = new SecretManager({ source, ...watchOptions(clock) });
    return { clock, source, manager };
  }

  it('is the default strategy', async () => {
    const { clock, source, manager } = setup();
    expect(manager.manager.strategy).toBe('Watch');
    expect(manager.manager.store).toBeInstanceOf(WatchObjectStore);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('serves a registered secret from a watch pinned to it, and "not registered" after unregisterPod', async () => {
    const { clock, source, manager } = setup();
    const pod = podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['s1'] });
    manager.registerPod(pod);

    expect((await manager.getSecret('ns1', 's1')).data).toEqual(SECRET_DATA);
    await clock.advance(0);
    expect(source.count('get')).toBe(0);
    expect(source.openWatchCount).toBe(1);
    expect(source.openWatches()[0].options.fieldSelector).toBe('metadata.name=s1');

    const unregistered = await rejectionOf(manager.getSecret('ns1', 'not-registered'));
    expect(unregistered.message).toBe('object "ns1"/"not-registered" not registered');

    manager.unregisterPod(pod);
    const afterUnregister = await rejectionOf(manager.getSecret('ns1', 's1'));
    expect(afterUnregister.message).toContain('not registered');
    expectNoSecretData(afterUnregister);
    await settle();
    expect(source.openWatchCount).toBe(0);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
    expect(clock.pendingTimers()).toBe(0); // no recycler, sync-wait or backoff timer left behind
  });

  it('sees a change to a mutable secret through its watch, without a GET', async () => {
    const { source, manager } = setup();
    manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['s1'] }));
    await manager.getSecret('ns1', 's1');
    await settle();
    const current = await source.get('ns1', 's1');
    source.update({ ...current, data: { password: b64('rotated') } });
    await settle();
    expect((await manager.getSecret('ns1', 's1')).data).toEqual({ password: b64('rotated') });
    expect(source.count('get')).toBe(1); // only the test's own read
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });

  it('a registered secret that does not exist is NotFound, and appears once created', async () => {
    const { source, manager } = setup();
    manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['later'] }));
    const err = await rejectionOf(manager.getSecret('ns1', 'later'));
    expect(isNotFound(err)).toBe(true);
    expect(err.message).toBe('secret "later" not found');
    expectNoSecretData(err);
    await settle();
    source.create({ metadata: { name: 'later', namespace: 'ns1' }, data: SECRET_DATA });
    await settle();
    expect((await manager.getSecret('ns1', 'later')).data).toEqual(SECRET_DATA);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });

  it('stops watching an immutable secret after the first get and keeps serving the copy it has', async () => {
    const { source, manager } = setup();
    source.create({ metadata: { name: 'frozen', namespace: 'ns1', labels: { v: '1' } }, immutable: true, data: SECRET_DATA });
    manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['frozen'] }));

    const first = await manager.getSecret('ns1', 'frozen');
    expect(first.data).toEqual(SECRET_DATA);
    expect(manager.manager.store.inspect('ns1', 'frozen')).toMatchObject({ running: false });
    await settle();
    expect(source.openWatchCount).toBe(0);
    const listsAndWatches = source.count('list') + source.count('watch');

    // Metadata of an immutable secret may still change; and it may be deleted and re-created.
    const stored = await source.get('ns1', 'frozen');
    source.update({ ...stored, metadata: { ...stored.metadata, labels: { v: '2' } } });
    source.remove('ns1', 'frozen');
    source.create({ metadata: { name: 'frozen', namespace: 'ns1', labels: { v: '3' } }, data: { password: b64('replaced') } });
    await settle();

    const again = await manager.getSecret('ns1', 'frozen');
    expect(again.data).toEqual(SECRET_DATA);
    expect(again.metadata?.labels).toEqual({ v: '1' });
    expect(manager.manager.store.inspect('ns1', 'frozen')).toMatchObject({ running: false });
    expect(source.count('list') + source.count('watch')).toBe(listsAndWatches);
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });
});

describe('kind check (TestSecretManagerGetSecretUnexpectedObjectType)', () => {
  /** A source whose get answers `answer` whatever is asked. */
  function sourceAnswering<T>(resource: typeof resources.secrets | typeof resources.configMaps, answer: unknown): MemorySource<V1Secret & V1ConfigMap> {
    return new MemorySource<V1Secret & V1ConfigMap>(resource).onGet(() => answer as T as V1Secret & V1ConfigMap);
  }

  const answers: Array<[string, unknown]> = [
    ['a ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's1', namespace: 'ns1' }, data: { key: 'v' } }],
    ['null', null],
    ['a string', 'not an object'],
  ];

  it.each(answers)('SecretManager (Get and Cache) rejects %s with "unexpected object type"', async (_label, answer) => {
    for (const strategy of ['Get', 'Cache'] as const) {
      const manager = new SecretManager({ source: sourceAnswering(resources.secrets, answer), strategy, clock: new FakeClock() });
      manager.registerPod(podWithSecrets('ns1', 'pod', { imagePullSecretNames: ['s1'] }));
      const err = await rejectionOf(manager.getSecret('ns1', 's1'));
      expect(err).toBeInstanceOf(UnexpectedObjectError);
      expect(err.message).toContain('unexpected object type');
      await manager.close();
    }
  });

  it('ConfigMapManager rejects a Secret with "unexpected object type" and without its data', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'cm1', namespace: 'ns1' }, data: SECRET_DATA };
    const manager = new ConfigMapManager({ source: sourceAnswering(resources.configMaps, secret), strategy: 'Get' });
    const err = await rejectionOf(manager.getConfigMap('ns1', 'cm1'));
    expect(err.message).toContain('unexpected object type');
    expectNoSecretData(err);
    await manager.close();
  });

  it('accepts objects of its own kind, and objects without a kind (as list items come)', async () => {
    for (const answer of [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA },
      { metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA },
    ]) {
      const manager = new SecretManager({ source: sourceAnswering(resources.secrets, answer), strategy: 'Get' });
      expect((await manager.getSecret('ns1', 's1')).data).toEqual(SECRET_DATA);
      await manager.close();
    }
  });

  it('checks the kind whatever ObjectSource answers (not only MemorySource)', async () => {
    const source: ObjectSource<V1Secret> = {
      resource: resources.secrets,
      get: async () => ({ kind: 'ConfigMap' }) as V1Secret,
      list: async () => ({ metadata: { resourceVersion: '1' }, items: [] }),
      watch: () => ({ [Symbol.asyncIterator]: async function* () {} }),
    };
    const manager = new SecretManager({ source, strategy: 'Get' });
    expect((await rejectionOf(manager.getSecret('ns1', 's1'))).message).toContain('unexpected object type');
    await manager.close();
  });
});

describe('strategy selection', () => {
  it('an unknown strategy throws "unknown configmap and secret manager mode"', () => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    expect(() => new SecretManager({ source, strategy: 'X' as ChangeDetectionStrategy })).toThrow(new Error('unknown configmap and secret manager mode: X'));
    const cmSource = new MemorySource<V1ConfigMap>(resources.configMaps);
    expect(() => new ConfigMapManager({ source: cmSource, strategy: 'Poll' as ChangeDetectionStrategy })).toThrow(new Error('unknown configmap and secret manager mode: Poll'));
  });

  it.each(['Get', 'Cache', 'Watch'] as const)('%s is reported as the manager strategy', async (strategy) => {
    const source = new MemorySource<V1Secret>(resources.secrets);
    const manager = new SecretManager({ source, strategy, clock: new FakeClock() });
    expect(manager.manager.strategy).toBe(strategy);
    expect(manager.manager.store instanceof WatchObjectStore).toBe(strategy === 'Watch');
    expect(manager.isWatching()).toBe(strategy === 'Watch');
    await manager.close();
    expect(source.openWatchCount).toBe(0);
  });
});

describe('names a Secret or ConfigMap cannot have (refused before any request)', () => {
  const STRATEGIES: ChangeDetectionStrategy[] = ['Watch', 'Cache', 'Get'];
  /** Path traversal (`.`, `..`), then the field-selector injections of issue 8. */
  const BAD_NAMES = ['..', '.', 'a,metadata.namespace=b', 'foo,metadata.name!=zzz', '=foo', 'x=y', 'trailing,', 'back\\slash', 'b/c', 'Upper', 'a'.repeat(254)];

  function setup(strategy: ChangeDetectionStrategy) {
    const warnings: Array<[string, LogFields | undefined]> = [];
    const logger: Logger = { debug() {}, warn: (msg, f) => void warnings.push([msg, f]) };
    const source = new MemorySource<V1Secret>(resources.secrets);
    // What each request the bad names could make would have found instead.
    for (const [namespace, name] of [
      ['ns1', 'ok'],
      ['ns1', 'a'],
      ['b', 'a'],
      ['ns1', 'foo'],
      ['ns1', 'trailing'],
      ['ns1', 'x'],
      ['a', 'b/c'],
    ]) {
      source.create({ metadata: { namespace, name }, data: { owner: b64(`${namespace}/${name}`) } });
    }
    const manager = new SecretManager({ source, strategy, ttl: 0, logger, clock: new FakeClock(), resyncInterval: 60_000 });
    return { source, manager, warnings };
  }

  const requested = (source: MemorySource<V1Secret>) => source.actions.map((a) => [a.verb, a.namespace, a.name ?? a.options.fieldSelector]);

  for (const strategy of STRATEGIES) {
    it(`${strategy}: registers the pod for its valid reference only, and getSecret of a bad name rejects with InvalidNameError`, async () => {
      const { source, manager, warnings } = setup(strategy);
      const pod = podWithSecrets('ns1', 'pod', { imagePullSecretNames: [...BAD_NAMES, 'ok'] });
      expect(() => manager.registerPod(pod)).not.toThrow();
      expect(() => manager.registerPod(pod)).not.toThrow();
      await expect(manager.getSecret('ns1', 'ok')).resolves.toMatchObject({ metadata: { name: 'ok' } });
      for (const name of BAD_NAMES) {
        const err = await rejectionOf(manager.getSecret('ns1', name));
        expect(err).toBeInstanceOf(InvalidNameError);
        expect(err.message).toMatch(/^invalid secret name "/);
      }
      await settle();
      const onlyOk =
        strategy === 'Watch'
          ? [
              ['list', 'ns1', 'metadata.name=ok'],
              ['watch', 'ns1', 'metadata.name=ok'],
            ]
          : [['get', 'ns1', 'ok']];
      expect(requested(source)).toEqual(onlyOk);
      // Reported once per name, not on every re-registration; Get registers nothing at all.
      expect(warnings.length).toBe(strategy === 'Get' ? 0 : BAD_NAMES.length);
      for (const [msg, fields] of warnings) {
        expect(msg).toBe('ignoring reference: not a valid secret name');
        expect(fields).toMatchObject({ namespace: 'ns1', pod: 'pod' });
      }
      manager.unregisterPod(pod);
      if (strategy !== 'Get') await expect(manager.getSecret('ns1', 'ok')).rejects.toBeInstanceOf(NotRegisteredError);
      await manager.close();
    });

    it(`${strategy}: a pod in namespace ".." or "." makes no request, and getSecret there rejects with InvalidNameError`, async () => {
      const { source, manager, warnings } = setup(strategy);
      for (const namespace of ['..', '.']) {
        manager.registerPod(podWithSecrets(namespace, 'pod', { imagePullSecretNames: ['ok'] }));
        const err = await rejectionOf(manager.getSecret(namespace, 'ok'));
        expect(err).toBeInstanceOf(InvalidNameError);
        expect(err.message).toMatch(/^invalid namespace "\.\.?": /);
      }
      await settle();
      expect(source.actions).toEqual([]);
      if (strategy !== 'Get') expect(warnings.map(([msg]) => msg)).toEqual(Array(2).fill('ignoring pod: its namespace is not a valid namespace name'));
      await manager.close();
    });

    it(`${strategy}: a pod in namespace "a/b" referencing "c" is never served namespace "a"'s secret "b/c"`, async () => {
      const { source, manager } = setup(strategy);
      manager.registerPod(podWithSecrets('a/b', 'pod', { imagePullSecretNames: ['c'] }));
      const answer = await manager.getSecret('a/b', 'c').catch((e: unknown) => e);
      expect(answer).toBeInstanceOf(InvalidNameError);
      expect(JSON.stringify(answer)).not.toContain(b64('a/b/c'));
      await settle();
      expect(source.actions).toEqual([]);
      await manager.close();
    });
  }

  it('ConfigMapManager applies the same rule, worded for configmaps', async () => {
    const source = new MemorySource<V1ConfigMap>(resources.configMaps);
    const manager = new ConfigMapManager({ source, strategy: 'Cache', ttl: 0 });
    manager.registerPod(podWithConfigMaps('ns1', 'pod', { volumes: ['..', 'x=y'] }));
    await expect(manager.getConfigMap('ns1', 'x=y')).rejects.toThrow(/^invalid configmap name "x=y": a lowercase RFC 1123 subdomain/);
    expect(source.actions).toEqual([]);
    await manager.close();
  });
});

describe('changes(), signals and await using on the managers', () => {
  function sources() {
    const secrets = new MemorySource<V1Secret>(resources.secrets);
    secrets.create({ metadata: { name: 's1', namespace: 'ns1' }, data: SECRET_DATA });
    const configMaps = new MemorySource<V1ConfigMap>(resources.configMaps);
    configMaps.create({ metadata: { name: 'cm1', namespace: 'ns1' }, data: { mode: 'blue' } });
    return { secrets, configMaps };
  }
  const pod: V1Pod = {
    metadata: { namespace: 'ns1', name: 'pod', uid: 'uid-1' },
    spec: { containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's1' } }, { configMapRef: { name: 'cm1' } }] }] },
  };

  it('Watch: changes() on each manager gives the object now and after every write, and completes when the pod goes', async () => {
    const { secrets, configMaps } = sources();
    const secretManager = new SecretManager({ source: secrets, clock: new FakeClock() });
    const configMapManager = new ConfigMapManager({ source: configMaps, clock: new FakeClock() });
    secretManager.registerPod(pod);
    configMapManager.registerPod(pod);
    const seen: string[] = [];
    let completed = 0;
    const complete = () => completed++;
    secretManager.changes('ns1', 's1').subscribe({ next: (s) => seen.push(`secret ${s?.data?.password ?? 'gone'}`), complete });
    configMapManager.changes('ns1', 'cm1').subscribe({ next: (c) => seen.push(`configmap ${c?.data?.mode ?? 'gone'}`), complete });
    await settle();
    secrets.update({ metadata: { name: 's1', namespace: 'ns1' }, data: { password: b64('rotated') } });
    configMaps.remove('ns1', 'cm1');
    await settle();
    expect(seen).toEqual([`secret ${SECRET_DATA.password}`, 'configmap blue', `secret ${b64('rotated')}`, 'configmap gone']);
    secretManager.unregisterPod(pod);
    configMapManager.unregisterPod(pod);
    expect(completed).toBe(2);
    await secretManager.close();
    await configMapManager.close();
    expect(secrets.openWatchCount + configMaps.openWatchCount).toBe(0);
  });

  it.each(['Cache', 'Get'] as const)('%s: changes() does not compile, and a cast past the compiler gets a TypeError that says why', async (strategy) => {
    const { secrets } = sources();
    const manager = new SecretManager({ source: secrets, strategy, clock: new FakeClock() });
    manager.registerPod(pod);
    // @ts-expect-error changes() needs SecretManager<'Watch'>
    expect(() => manager.changes('ns1', 's1')).toThrow(new TypeError(`changes() needs the Watch strategy; this manager uses ${strategy}, which keeps no watch to report changes`));
    // @ts-expect-error and so does the strategy manager underneath
    expect(() => manager.manager.changes('ns1', 's1')).toThrow(TypeError);
    expect(manager.isWatching()).toBe(false);
    await manager.close();
  });

  it('isWatching() narrows a manager whose strategy is chosen at run time, so changes() compiles without a cast', async () => {
    const { secrets } = sources();
    const chosen = ['Cache', 'Watch'][1] as ChangeDetectionStrategy;
    const manager = createObjectManager<V1Secret, ChangeDetectionStrategy>({ source: secrets, strategy: chosen, getReferencedObjects: podSecretNames, clock: new FakeClock() });
    manager.registerPod(pod);
    expect(manager.isWatching()).toBe(true);
    if (!manager.isWatching()) throw new Error('unreachable');
    const first = await new Promise<V1Secret | undefined>((resolve) => {
      const sub = manager.changes('ns1', 's1').subscribe((s) => {
        resolve(s);
        queueMicrotask(() => sub.unsubscribe());
      });
    });
    expect(first?.data).toEqual(SECRET_DATA);
    expect(manager.store.inspect('ns1', 's1')).toMatchObject({ running: true, synced: true });
    expect(manager.stats()).toEqual({ objects: 1, references: 1 });
    await manager.close();
  });

  it.each(['Watch', 'Cache'] as const)('%s: a getSecret whose signal aborts rejects with AbortError and loses nothing', async (strategy) => {
    const { secrets } = sources();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    secrets.onList(async () => void (await blocked));
    secrets.onGet(async () => void (await blocked));
    const manager = new SecretManager({ source: secrets, strategy, clock: new FakeClock(), watch: { syncTimeout: 60_000 } });
    manager.registerPod(pod);
    const controller = new AbortController();
    const waiting = manager.getSecret('ns1', 's1', { signal: controller.signal });
    await settle();
    controller.abort();
    expect(isAbortError(await waiting.catch((e: unknown) => e))).toBe(true);
    expect(manager.manager.stats()).toEqual({ objects: 1, references: 1 });
    release();
    await expect(manager.getSecret('ns1', 's1')).resolves.toMatchObject({ data: SECRET_DATA });
    await manager.close();
    expect(secrets.openWatchCount).toBe(0);
  });

  it('Get: a getSecret whose signal aborts rejects with AbortError, and the next read is a fresh GET', async () => {
    const { secrets } = sources();
    let release!: () => void;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    secrets.onGet(async () => void (await blocked));
    const manager = new SecretManager({ source: secrets, strategy: 'Get', clock: new FakeClock() });
    const controller = new AbortController();
    const waiting = manager.getSecret('ns1', 's1', { signal: controller.signal });
    controller.abort();
    expect(isAbortError(await waiting.catch((e: unknown) => e))).toBe(true);
    release();
    await expect(manager.getSecret('ns1', 's1')).resolves.toMatchObject({ data: SECRET_DATA });
    expect(secrets.count('get')).toBe(2);
    await manager.close();
  });

  it('SecretManager and ConfigMapManager close at the end of an `await using` block, also when the block throws', async () => {
    const { secrets, configMaps } = sources();
    const clock = new FakeClock();
    const closed = async () => {
      await settle();
      return secrets.openWatchCount + configMaps.openWatchCount === 0 && clock.pendingTimers() === 0;
    };
    await expectAwaitUsingCloses(
      () => new SecretManager({ source: secrets, clock }),
      closed,
      async (manager) => {
        manager.registerPod(pod);
        await manager.getSecret('ns1', 's1');
      },
    );
    await expectAwaitUsingCloses(
      () => new ConfigMapManager({ source: configMaps, clock }),
      closed,
      async (manager) => {
        manager.registerPod(pod);
        await manager.getConfigMap('ns1', 'cm1');
      },
    );
  });
});
