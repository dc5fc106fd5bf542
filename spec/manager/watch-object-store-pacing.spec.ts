// The watch store's reflectors wait their turn at its sync pacer (counted as lists at the
// source), and a 429 holds them all back, on FakeClock.
import { afterEach, describe, expect, it } from '@jest/globals';
import { StatusError } from '../../lib/api/errors.js';
import type { KubeObject } from '../../lib/api/object.js';
import { resources } from '../../lib/api/resource.js';
import type { SyncPacerOptions } from '../../lib/cache/sync-pacer.js';
import { WatchObjectStore } from '../../lib/manager/watch-object-store.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';

const stores: WatchObjectStore<KubeObject>[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe('WatchObjectStore sync pacing', () => {
  function store(opts: SyncPacerOptions | false, objects = 20) {
    const clock = new FakeClock();
    const source = new MemorySource<KubeObject>(resources.secrets);
    for (let i = 0; i < objects; i++) source.create({ metadata: { namespace: 'ns', name: `s${i}` } });
    const s = new WatchObjectStore<KubeObject>({ source, clock, recycleInterval: 0, random: () => 0, syncPacing: opts });
    stores.push(s);
    const registerAll = () => {
      for (let i = 0; i < objects; i++) s.addReference('ns', `s${i}`, 'pod');
    };
    return { clock, source, store: s, registerAll };
  }

  it("lists a burst of references at the pacer's rate, not all at once", async () => {
    const { clock, source, store: s, registerAll } = store({ qps: 10, burst: 5 });
    registerAll();
    await settle();
    expect(source.count('list')).toBe(5);
    await clock.advance(1_000);
    expect(source.count('list')).toBe(15);
    await clock.advance(500);
    expect(source.count('list')).toBe(20);
    expect(s.stats().runningReflectors).toBe(20);
  });

  it('does not pace with syncPacing: false', () => {
    const { source, registerAll } = store(false, 3000);
    registerAll();
    expect(source.count('list')).toBe(3000);
  });

  it('leaves no pacer timer behind when closed with syncs still queued', async () => {
    const { clock, store: s, registerAll } = store({ qps: 1, burst: 1 });
    registerAll();
    await settle();
    await s.close();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("holds back everyone's lists after a 429 with Retry-After, instead of each reflector retrying on its own", async () => {
    const { clock, source, registerAll } = store({ qps: 10, burst: 5, minQps: 1 });
    let throttle = 1;
    source.onList(() => {
      if (throttle-- > 0) throw new StatusError(429, 'TooManyRequests', 'slow down', { retryAfterSeconds: 3 });
      return undefined;
    });
    registerAll();
    await settle();
    expect(source.count('list')).toBe(5);
    await clock.advance(2_999);
    expect(source.count('list')).toBe(5);
    // After the pause at half the rate, one per 200 ms: 4 by 3.999 s, the 5th at 4 s.
    await clock.advance(1_000);
    expect(source.count('list')).toBe(9);
    await clock.advance(1);
    expect(source.count('list')).toBe(10);
  });
});
