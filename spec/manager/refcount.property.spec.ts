// Model-based property test of the refcounting: random sequences of register, update and
// unregister, checked after every step against a plain model of which objects must be
// registered and with how many references from which UID.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import fc from 'fast-check';
import { resources } from '../../lib/api/resource.js';
import { CacheBasedManager } from '../../lib/manager/cache-based-manager.js';
import { podSecretNames } from '../../lib/manager/pod-references.js';
import { TtlObjectStore } from '../../lib/manager/ttl-object-store.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';

const NAMESPACES = ['ns-a', 'ns-b'];
const POD_NAMES = ['p0', 'p1', 'p2'];
const UIDS = ['u0', 'u1', 'u2', 'u3'];
const SECRETS = ['s0', 's1', 's2', 's3', 's4'];
const RUNS = Number(process.env.REFWATCH_PROPERTY_RUNS ?? 10_000);

type Op = { kind: 'register'; ns: string; name: string; uid: string; refs: string[] } | { kind: 'unregister'; ns: string; name: string; uid: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('register' as const),
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom(...POD_NAMES),
    uid: fc.constantFrom(...UIDS),
    refs: fc.array(fc.constantFrom(...SECRETS), { maxLength: 6 }),
  }),
  fc.record({
    kind: fc.constant('unregister' as const),
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom(...POD_NAMES),
    uid: fc.constantFrom(...UIDS),
  }),
);

/** Spreads the references over the fields a pod can use (pull secrets, env, envFrom, volumes). */
function podFor(op: Op): V1Pod {
  const refs = op.kind === 'register' ? op.refs : [];
  return {
    metadata: { namespace: op.ns, name: op.name, uid: op.uid },
    spec: {
      imagePullSecrets: refs.filter((_, i) => i % 4 === 0).map((name) => ({ name })),
      containers: [
        {
          name: 'c',
          env: refs.filter((_, i) => i % 4 === 1).map((name) => ({ name: 'E', valueFrom: { secretKeyRef: { name, key: 'k' } } })),
          envFrom: refs.filter((_, i) => i % 4 === 2).map((name) => ({ secretRef: { name } })),
        },
      ],
      volumes: refs.filter((_, i) => i % 4 === 3).map((name, i) => ({ name: `v${i}`, secret: { secretName: name } })),
    },
  };
}

/** The model: registered pods by (ns, name, uid) with the set of names they reference. */
class Model {
  readonly pods = new Map<string, { ns: string; uid: string; refs: Set<string> }>();

  apply(op: Op): void {
    const key = `${op.ns}/${op.name}/${op.uid}`;
    if (op.kind === 'register') this.pods.set(key, { ns: op.ns, uid: op.uid, refs: new Set(op.refs) });
    else this.pods.delete(key);
  }

  /** References to ns/secret, per UID. */
  refsByUid(ns: string, secret: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const pod of this.pods.values()) if (pod.ns === ns && pod.refs.has(secret)) out[pod.uid] = (out[pod.uid] ?? 0) + 1;
    return out;
  }

  total(ns: string, secret: string): number {
    return Object.values(this.refsByUid(ns, secret)).reduce((a, b) => a + b, 0);
  }
}

describe('refcounting, model-based', () => {
  it(`TTL store: reference counts always equal the model's (${RUNS} sequences)`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
        const store = new TtlObjectStore<V1Secret>({ getObject: async () => ({}), ttl: 0, clock: new FakeClock() });
        const manager = new CacheBasedManager(store, podSecretNames);
        const model = new Model();
        for (const op of ops) {
          if (op.kind === 'register') manager.registerPod(podFor(op));
          else manager.unregisterPod(podFor(op));
          model.apply(op);
          let registered = 0;
          for (const ns of NAMESPACES) {
            for (const s of SECRETS) {
              const expected = model.total(ns, s);
              if (store.referenceCount(ns, s) !== expected) return false;
              if (expected > 0) registered++;
            }
          }
          if (store.stats().objects !== registered) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it(`watch store: exactly the referenced objects are watched, with per-UID counts equal to the model's (${RUNS} sequences)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const clock = new FakeClock();
        const source = new MemorySource<V1Secret>(resources.secrets);
        const store = new WatchObjectStore<V1Secret>({ source, clock, recycleInterval: 0 });
        const manager = new CacheBasedManager(store, podSecretNames);
        const model = new Model();
        try {
          for (const op of ops) {
            if (op.kind === 'register') manager.registerPod(podFor(op));
            else manager.unregisterPod(podFor(op));
            model.apply(op);
            let watched = 0;
            for (const ns of NAMESPACES) {
              for (const s of SECRETS) {
                const expected = model.refsByUid(ns, s);
                const state = store.inspect(ns, s);
                if (Object.keys(expected).length === 0) {
                  if (state !== undefined) return false;
                  continue;
                }
                watched++;
                if (!state || !state.running) return false;
                expect(state.refs).toEqual(expected);
              }
            }
            if (store.stats().objects !== watched || store.stats().runningReflectors !== watched) return false;
          }
          return true;
        } finally {
          await manager.close();
          expect(store.stats().activeReflectorLoops).toBe(0);
          expect(source.openWatchCount).toBe(0);
        }
      }),
      { numRuns: RUNS },
    );
  }, 180_000);
});
