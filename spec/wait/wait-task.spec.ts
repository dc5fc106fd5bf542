// Ports openkruise agents' pkg/cache/utils task_test.go and the WaitForObjectSatisfied,
// CheckObjectSatisfied, DoubleCheck and FirstCreatorExitsSecondStillWaiting scenarios of
// wait_test.go: the exact wait sequence of lazy and pre-acquired tasks, on a FakeClock.
import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../lib/api/object.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { WaitNotSatisfiedError, WaitTaskConflictError, WaitTaskUsedError } from '../../lib/wait/errors.js';
import { WaitHooks } from '../../lib/wait/wait-hooks.js';
import { DEFAULT_WAIT_POLL_INTERVAL, newAcquiredWaitTask, newWaitTask, type WaitTaskOptions } from '../../lib/wait/wait-task.js';

interface Sbx extends KubeObject {
  metadata: { namespace: string; name: string; labels?: Record<string, string> };
  status?: { phase?: string };
}

function sandbox(name: string, phase?: string): Sbx {
  return { apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Sandbox', metadata: { namespace: 'default', name }, status: phase ? { phase } : {} };
}

const running = (s: Sbx) => s.status?.phase === 'Running';
const never = () => false;
const identity = async (s: Sbx) => s;

function rig() {
  const clock = new FakeClock(1_000_000);
  const hooks = new WaitHooks();
  const opts = (o: Partial<WaitTaskOptions<Sbx>> & { object: Sbx }): WaitTaskOptions<Sbx> => ({ hooks, clock, action: 'Resume', check: never, update: identity, ...o });
  /** Lets the wait run and the clock move until `p` settles (at most `maxMs` of fake time). */
  async function drive<T>(p: Promise<T>, stepMs = 5, maxMs = 120_000): Promise<T> {
    let done = false;
    p.then(
      () => (done = true),
      () => (done = true),
    );
    for (let t = 0; !done && t <= maxMs; t += stepMs) {
      await settle();
      if (!done) await clock.advance(stepMs);
    }
    return p;
  }
  return { clock, hooks, opts, drive };
}

describe('lazy wait task', () => {
  it('returns at once when the object as given is already satisfied, and never creates a hook', async () => {
    const { hooks, opts } = rig();
    let updates = 0;
    const task = newWaitTask(opts({ object: sandbox('sbx-1'), check: () => true, update: async (s) => (updates++, s) }));
    await expect(task.wait(5_000)).resolves.toBeUndefined();
    expect(hooks.size).toBe(0);
    expect(updates).toBe(0);
  });

  it('fails with "object is not satisfied" on a zero or negative timeout, typed with the action and not during a double-check', async () => {
    const { hooks, opts } = rig();
    for (const timeout of [0, -1]) {
      const err = await newWaitTask(opts({ object: sandbox('sbx-2') }))
        .wait(timeout)
        .catch((e) => e);
      expect(err).toBeInstanceOf(WaitNotSatisfiedError);
      expect(err.message).toBe('object is not satisfied');
      expect({ action: err.action, duringDoubleCheck: err.duringDoubleCheck, object: err.object }).toEqual({
        action: 'Resume',
        duringDoubleCheck: false,
        object: { namespace: 'default', name: 'sbx-2' },
      });
    }
    expect(hooks.size).toBe(0);
  });

  it('exposes its action, the very object it was built for, and the hook key', () => {
    const { opts } = rig();
    const sbx = sandbox('sbx-3');
    const task = newWaitTask(opts({ object: sbx }));
    expect(task.action).toBe('Resume');
    expect(task.object).toBe(sbx);
    expect(task.key).toBe('agents.kruise.io/v1alpha1/Sandbox/default/sbx-3');
    expect(task.hook).toBeUndefined();
  });

  it('double-checks when its captured signal aborts mid-wait, and fails with the typed error', async () => {
    const { clock, hooks, opts, drive } = rig();
    const ac = new AbortController();
    let updates = 0;
    const task = newWaitTask(opts({ object: sandbox('sbx-4'), signal: ac.signal, update: async (s) => (updates++, s) }));
    clock.setTimeout(() => ac.abort(), 20);
    const err = await drive(task.wait(2_000)).catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(err.duringDoubleCheck).toBe(true);
    expect(updates).toBe(2); // post-acquire check, then the double-check
    expect(clock.now()).toBe(1_000_020);
    expect(hooks.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a check that throws on the object as given fails the wait with that error, before any hook', async () => {
    const { hooks, opts } = rig();
    const boom = new Error('assert.AnError general error for testing');
    await expect(
      newWaitTask(
        opts({
          object: sandbox('x'),
          check: () => {
            throw boom;
          },
        }),
      ).wait(1_000),
    ).rejects.toBe(boom);
    expect(hooks.size).toBe(0);
  });

  it('times out after 50 ms with the double-check error and leaves no timer behind', async () => {
    const { clock, hooks, opts, drive } = rig();
    const err = await drive(newWaitTask(opts({ object: sandbox('sbx-timeout') })).wait(50)).catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(err.message).toBe('object is not satisfied during double check');
    expect(clock.now()).toBe(1_000_050);
    expect(hooks.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails with the double-check error at once when its signal was aborted before wait (ctx already canceled)', async () => {
    const { hooks, opts } = rig();
    const err = await newWaitTask(opts({ object: sandbox('sbx-ctx-canceled'), signal: AbortSignal.abort() }))
      .wait(3_600_000)
      .catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(err.duringDoubleCheck).toBe(true);
    expect(err.action).toBe('Resume');
    expect(hooks.size).toBe(0);
  });

  it('ends a one-hour wait when its signal times out after 30 ms (ctx timeout)', async () => {
    const { clock, opts, drive } = rig();
    const ac = new AbortController();
    clock.setTimeout(() => ac.abort(), 30);
    const err = await drive(newWaitTask(opts({ object: sandbox('sbx-ctx-timeout'), signal: ac.signal })).wait(3_600_000)).catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(clock.now()).toBe(1_000_030);
  });

  it('refuses another action with a typed conflict (existing Resume, requested Pause) and leaves the first waiter alone', async () => {
    const { hooks, opts, drive } = rig();
    const sbx = sandbox('sbx-conflict');
    const first = newWaitTask(opts({ object: sbx, action: 'Resume' })).wait(3_600_000);
    await settle();
    expect(hooks.get('agents.kruise.io/v1alpha1/Sandbox/default/sbx-conflict')?.refs).toBe(1);
    const err = await newWaitTask(opts({ object: sbx, action: 'Pause' }))
      .wait(1_000)
      .catch((e) => e);
    expect(err).toBeInstanceOf(WaitTaskConflictError);
    expect([err.existing, err.requested, err.message]).toEqual(['Resume', 'Pause', "another action(Resume)'s wait task already exists"]);
    expect(hooks.get(newWaitTask(opts({ object: sbx })).key)?.refs).toBe(1);
    hooks.get(newWaitTask(opts({ object: sbx })).key)!.close();
    await expect(drive(first)).rejects.toBeInstanceOf(WaitNotSatisfiedError);
    expect(hooks.size).toBe(0);
  });

  it('succeeds after the hook is closed when the re-read object is satisfied (satisfied after signal)', async () => {
    const { hooks, opts, drive } = rig();
    const sbx = sandbox('sbx-signal', 'Pending');
    let updates = 0;
    const task = newWaitTask(opts({ object: sbx, check: running, update: async (s) => (++updates === 1 ? s : { ...s, status: { phase: 'Running' } }) }));
    const waiting = task.wait(2_000);
    await settle();
    hooks.get(task.key)!.close();
    await expect(drive(waiting)).resolves.toBeUndefined();
    expect(updates).toBe(2);
    expect(hooks.size).toBe(0);
  });

  it('returns after the post-acquire check when the updated object is satisfied: one update, hook gone', async () => {
    const { hooks, opts } = rig();
    let updates = 0;
    const task = newWaitTask(opts({ object: sandbox('sbx-post-acquire', 'Pending'), check: running, update: async (s) => (updates++, { ...s, status: { phase: 'Running' } }) }));
    await expect(task.wait(200)).resolves.toBeUndefined();
    expect(updates).toBe(1);
    expect(hooks.size).toBe(0);
  });

  it('is satisfied by the poll fallback without any signal, on the injected clock', async () => {
    const { clock, opts, drive } = rig();
    let updates = 0;
    const task = newWaitTask(
      opts({ object: sandbox('sbx-poll', 'Pending'), check: running, pollInterval: 10, update: async (s) => (++updates >= 2 ? { ...s, status: { phase: 'Running' } } : s) }),
    );
    await expect(drive(task.wait(1_000), 1)).resolves.toBeUndefined();
    expect(updates).toBe(2);
    expect(clock.now()).toBe(1_000_010);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('polls every 10 s by default', async () => {
    const { clock, opts, drive } = rig();
    let updates = 0;
    const task = newWaitTask(
      opts({ object: sandbox('sbx-default-poll', 'Pending'), check: running, update: async (s) => (++updates >= 3 ? { ...s, status: { phase: 'Running' } } : s) }),
    );
    await expect(drive(task.wait(60_000), 1_000)).resolves.toBeUndefined();
    expect(DEFAULT_WAIT_POLL_INTERVAL).toBe(10_000);
    expect(clock.now()).toBe(1_000_000 + 2 * DEFAULT_WAIT_POLL_INTERVAL);
  });

  it('returns the update error met during the double-check as it is', async () => {
    const { hooks, opts, drive } = rig();
    const boom = new Error('update failed');
    let updates = 0;
    const task = newWaitTask(
      opts({
        object: sandbox('sbx-update-err'),
        update: async (s) => {
          if (++updates === 1) return s;
          throw boom;
        },
      }),
    );
    const waiting = task.wait(2_000);
    await settle();
    hooks.get(task.key)!.close();
    await expect(drive(waiting)).rejects.toBe(boom);
  });

  it('returns the check error met during the double-check as it is', async () => {
    const { hooks, opts, drive } = rig();
    const boom = new Error('check failed');
    let checks = 0;
    const task = newWaitTask(
      opts({
        object: sandbox('sbx-check-fail'),
        check: () => {
          if (++checks < 3) return false;
          throw boom;
        },
      }),
    );
    const waiting = task.wait(2_000);
    await settle();
    hooks.get(task.key)!.close();
    await expect(drive(waiting)).rejects.toBe(boom);
    expect(checks).toBe(3); // as given, post-acquire, double-check
  });

  it('lets two same-action waiters share one hook, and both succeed once it closes', async () => {
    const { hooks, opts, drive } = rig();
    const sbx = sandbox('sbx-reuse', 'Pending');
    let updates = 0;
    const update = async (s: Sbx) => (++updates <= 2 ? s : { ...s, status: { phase: 'Running' } });
    const a = newWaitTask(opts({ object: sbx, check: running, update })).wait(2_000);
    const b = newWaitTask(opts({ object: sbx, check: running, update })).wait(2_000);
    await settle();
    expect(updates).toBe(2);
    expect(hooks.size).toBe(1);
    const entry = hooks.get(newWaitTask(opts({ object: sbx })).key)!;
    expect(entry.refs).toBe(2);
    entry.close();
    await expect(drive(Promise.all([a, b]))).resolves.toEqual([undefined, undefined]);
    expect(hooks.size).toBe(0);
  });

  it('keeps the shared hook when the waiter that joined second times out', async () => {
    const { hooks, opts, drive } = rig();
    const sbx = sandbox('sbx-reused-exit');
    const ac = new AbortController();
    const first = newWaitTask(opts({ object: sbx, signal: ac.signal })).wait(3_600_000);
    await settle();
    await expect(drive(newWaitTask(opts({ object: sbx })).wait(20))).rejects.toBeInstanceOf(WaitNotSatisfiedError);
    expect(hooks.size).toBe(1);
    expect(hooks.get(newWaitTask(opts({ object: sbx })).key)!.refs).toBe(1);
    ac.abort();
    await expect(drive(first)).rejects.toBeInstanceOf(WaitNotSatisfiedError);
    expect(hooks.size).toBe(0);
  });

  it('removes its hook after returning (hook cleaned up after return)', async () => {
    const { hooks, opts, drive } = rig();
    let updates = 0;
    const task = newWaitTask(
      opts({ object: sandbox('sbx-cleanup', 'Pending'), check: running, update: async (s) => (++updates === 1 ? s : { ...s, status: { phase: 'Running' } }) }),
    );
    const waiting = task.wait(1_000);
    await settle();
    expect(hooks.size).toBe(1);
    hooks.get(task.key)!.close();
    await drive(waiting);
    expect(updates).toBe(2);
    expect(hooks.size).toBe(0);
  });

  it('works for other kinds: a Checkpoint and a core v1 Pod', async () => {
    const { opts } = rig();
    const cp = { apiVersion: 'agents.kruise.io/v1alpha1', kind: 'Checkpoint', metadata: { namespace: 'default', name: 'cp-1' }, status: { phase: 'Succeeded' } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name: 'my-pod' }, status: { phase: 'Running' } };
    await expect(
      newWaitTask({
        ...opts({ object: sandbox('unused') }),
        object: cp,
        action: 'Checkpoint',
        check: (o: typeof cp) => o.status.phase === 'Succeeded',
        update: async (o: typeof cp) => o,
      }).wait(1_000),
    ).resolves.toBeUndefined();
    await expect(
      newWaitTask({
        ...opts({ object: sandbox('unused') }),
        object: pod,
        action: 'WaitReady',
        check: (o: typeof pod) => o.status.phase === 'Running',
        update: async (o: typeof pod) => o,
      }).wait(1_000),
    ).resolves.toBeUndefined();
  });

  it('refuses an object it cannot key (no apiVersion or kind) with a TypeError', () => {
    const { opts } = rig();
    expect(() => newWaitTask(opts({ object: { metadata: { namespace: 'default', name: 'x' } } as Sbx }))).toThrow(TypeError);
  });

  it('keeps the hook while a second waiter holds it after the creator exits, then that waiter succeeds (FirstCreatorExitsSecondStillWaiting)', async () => {
    const { hooks, opts, drive } = rig();
    const sbx = sandbox('sbx-creator-exits', 'Pending');
    let satisfied = false;
    const update = async (s: Sbx) => (satisfied ? { ...s, status: { phase: 'Running' } } : s);
    const ac = new AbortController();
    const first = newWaitTask(opts({ object: sbx, check: running, update, signal: ac.signal })).wait(3_600_000);
    await settle();
    const second = newWaitTask(opts({ object: sbx, check: running, update })).wait(3_600_000);
    await settle();
    const key = newWaitTask(opts({ object: sbx })).key;
    expect(hooks.get(key)!.refs).toBe(2);
    ac.abort();
    await expect(drive(first)).rejects.toBeInstanceOf(WaitNotSatisfiedError);
    expect(hooks.get(key)?.refs).toBe(1);
    satisfied = true;
    hooks.get(key)!.close();
    await expect(drive(second)).resolves.toBeUndefined();
    expect(hooks.size).toBe(0);
  });
});

describe('refreshed check and double-check', () => {
  // CheckObjectSatisfied and DoubleCheckObjectSatisfied are internal steps here; a task whose
  // hook is closed at once exercises them: the post-acquire check is the refreshed check,
  // the check after the close is the double-check.
  async function closedAtOnce(update: (s: Sbx) => Promise<Sbx>, check: (s: Sbx) => boolean) {
    const { hooks, opts, drive } = rig();
    let updates = 0;
    let checks = 0;
    // Check 1 (as given) and 2 (post-acquire) see "not yet"; the double-check sees `update` and `check`.
    const task = newWaitTask(
      opts({ object: sandbox('sbx-dbl', 'Pending'), update: (s) => (++updates === 1 ? Promise.resolve(s) : update(s)), check: (s) => (++checks <= 2 ? false : check(s)) }),
    );
    const waiting = task.wait(1_000);
    await settle();
    hooks.get(task.key)?.close();
    return drive(waiting);
  }

  it('is satisfied by the updated object even though the original is not', async () => {
    await expect(closedAtOnce(async (s) => ({ ...s, status: { phase: 'Running' } }), running)).resolves.toBeUndefined();
  });

  it('fails typed with duringDoubleCheck when the updated object is not satisfied', async () => {
    const err = await closedAtOnce(identity, () => false).catch((e) => e);
    expect(err).toBeInstanceOf(WaitNotSatisfiedError);
    expect(err.duringDoubleCheck).toBe(true);
    expect(err.message).toContain('not satisfied');
  });

  it('returns the update error and the check error as they are', async () => {
    const updateErr = new Error('update');
    const checkErr = new Error('check');
    await expect(
      closedAtOnce(
        async () => {
          throw updateErr;
        },
        () => true,
      ),
    ).rejects.toBe(updateErr);
    await expect(
      closedAtOnce(identity, () => {
        throw checkErr;
      }),
    ).rejects.toBe(checkErr);
  });
});

describe('pre-acquired wait task', () => {
  it("acquires at once (the stored hook is the task's), and a double release removes it once", () => {
    const { hooks, opts } = rig();
    const sbx = sandbox('sbx-acquired-release');
    const task = newAcquiredWaitTask(opts({ object: sbx, action: 'Pause' }));
    expect(task.action).toBe('Pause');
    expect(task.object).toBe(sbx);
    expect(hooks.get(task.key)).toBe(task.hook);
    expect(task.hook!.refs).toBe(1);
    task.release();
    task.release();
    expect(hooks.get(task.key)).toBeUndefined();
    expect(task.hook!.refs).toBe(0);
  });

  it('is refused at construction by a different action ("another action(Pause)\'s wait task already exists")', () => {
    const { hooks, opts } = rig();
    const sbx = sandbox('sbx-acquired-conflict');
    const pause = newAcquiredWaitTask(opts({ object: sbx, action: 'Pause' }));
    let resume: unknown;
    expect(() => (resume = newAcquiredWaitTask(opts({ object: sbx, action: 'Resume' })))).toThrow("another action(Pause)'s wait task already exists");
    expect(resume).toBeUndefined();
    expect(pause.hook!.refs).toBe(1);
    pause.release();
    expect(hooks.size).toBe(0);
  });

  it('waits on the hook it holds and releases it when the wait returns', async () => {
    const { hooks, opts } = rig();
    const sbx = sandbox('sbx-acquired-wait');
    const task = newAcquiredWaitTask(
      opts({ object: sbx, update: async (s) => ({ ...s, metadata: { ...s.metadata, labels: { ready: 'true' } } }), check: (s) => s.metadata.labels?.ready === 'true' }),
    );
    await expect(task.wait(1_000)).resolves.toBeUndefined();
    expect(hooks.size).toBe(0);
    task.release(); // a deferred release after wait does nothing
    expect(hooks.size).toBe(0);
  });

  it('skips the unrefreshed first check: a satisfied object as given still costs one update', async () => {
    const { opts } = rig();
    let updates = 0;
    const task = newAcquiredWaitTask(opts({ object: sandbox('sbx-skip', 'Running'), check: running, update: async (s) => (updates++, s) }));
    await task.wait(1_000);
    expect(updates).toBe(1);
  });

  it('fails a zero timeout after the post-acquire check with "object is not satisfied"', async () => {
    const { hooks, opts } = rig();
    const err = await newAcquiredWaitTask(opts({ object: sandbox('sbx-zero') }))
      .wait(0)
      .catch((e) => e);
    expect(err.message).toBe('object is not satisfied');
    expect(err.duringDoubleCheck).toBe(false);
    expect(hooks.size).toBe(0);
  });

  it('refuses wait after release ("pre-acquired wait task already used or released")', async () => {
    const { hooks, opts } = rig();
    const task = newAcquiredWaitTask(opts({ object: sandbox('sbx-release-before-wait'), check: () => true }));
    task.release();
    const err = await task.wait(1_000).catch((e) => e);
    expect(err).toBeInstanceOf(WaitTaskUsedError);
    expect(err.message).toBe('pre-acquired wait task already used or released');
    expect(hooks.size).toBe(0);
  });

  it('refuses a second wait after a successful one', async () => {
    const { opts } = rig();
    const task = newAcquiredWaitTask(opts({ object: sandbox('sbx-wait-twice'), check: () => true }));
    await task.wait(1_000);
    await expect(task.wait(1_000)).rejects.toThrow('pre-acquired wait task already used or released');
  });

  it('refuses a concurrent second wait while the first is blocked in update, and the first then succeeds', async () => {
    const { hooks, opts } = rig();
    let allow!: () => void;
    const gate = new Promise<void>((r) => (allow = r));
    let updates = 0;
    const task = newAcquiredWaitTask(
      opts({
        object: sandbox('sbx-concurrent'),
        check: () => updates > 0,
        update: async (s) => {
          if (++updates === 1) await gate;
          return s;
        },
      }),
    );
    const first = task.wait(1_000);
    await settle();
    expect(updates).toBe(1);
    await expect(task.wait(1_000)).rejects.toThrow('pre-acquired wait task already used or released');
    task.release(); // no-op: the wait started and owns the release
    expect(hooks.size).toBe(1);
    allow();
    await expect(first).resolves.toBeUndefined();
    expect(hooks.size).toBe(0);
  });

  it('gives the hook back at the end of a `using` block that never waited, also when the block throws', () => {
    const { hooks, opts } = rig();
    const sbx = sandbox('sbx-using');
    {
      using task = newAcquiredWaitTask(opts({ object: sbx, action: 'Pause' }));
      expect(hooks.get(task.key)).toBe(task.hook);
    }
    expect(hooks.size).toBe(0);
    expect(() => {
      using task = newAcquiredWaitTask(opts({ object: sbx, action: 'Pause' }));
      expect(hooks.size).toBe(1);
      throw new Error(`mutating ${task.key} failed`);
    }).toThrow('mutating agents.kruise.io/v1alpha1/Sandbox/default/sbx-using failed');
    expect(hooks.size).toBe(0);
  });

  it('under `using`, a task that waited is released by its wait, and the block end changes nothing', async () => {
    const { hooks, opts } = rig();
    const sbx = sandbox('sbx-using-wait', 'Running');
    {
      using task = newAcquiredWaitTask(opts({ object: sbx, action: 'Resume', check: running }));
      await task.wait(1_000);
      expect(hooks.size).toBe(0);
      newAcquiredWaitTask(opts({ object: sbx, action: 'Pause' })).release();
    }
    expect(hooks.size).toBe(0);
  });
});
