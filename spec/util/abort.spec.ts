// The abort and deadline toolkit: one AbortError and its predicate, a race that stops waiting
// when the signal fires, and deadline(): one signal that says whether the caller, the time or
// the owner ended the call, with nothing left scheduled or listening once it is ended.
import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { AbortError, DeadlineExceededError, deadline, isAbortError, raceAbort } from '../../lib/util/abort.js';

/** How many 'abort' listeners `signal` holds, counted through the EventTarget API. */
function watchListeners(signal: AbortSignal): () => number {
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
    if (args[0] === 'abort') count++;
    add(...args);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
    if (args[0] === 'abort') count--;
    remove(...args);
  }) as AbortSignal['removeEventListener'];
  return () => count;
}

describe('AbortError and isAbortError', () => {
  it('recognises refwatch’s AbortError and the platform’s, and nothing else', () => {
    const err = new AbortError('request aborted while reading the body', { during: 'reading the body' });
    expect(err.name).toBe('AbortError');
    expect(err.during).toBe('reading the body');
    expect(isAbortError(err)).toBe(true);
    expect(isAbortError(AbortSignal.abort().reason)).toBe(true);
    expect(isAbortError(new Error('aborted'))).toBe(false);
    expect(isAbortError(new DeadlineExceededError('x', 1))).toBe(false);
    expect(isAbortError('AbortError')).toBe(false);
  });
});

describe('raceAbort', () => {
  it('rejects with an AbortError when the signal wins, and resolves like the promise otherwise', async () => {
    const ctl = new AbortController();
    const never = raceAbort(new Promise(() => {}), ctl.signal);
    ctl.abort();
    await expect(never).rejects.toBeInstanceOf(AbortError);
    await expect(raceAbort(Promise.resolve(7), new AbortController().signal)).resolves.toBe(7);
    await expect(raceAbort(Promise.resolve(7), AbortSignal.abort(), () => new Error('gave up'))).rejects.toThrow('gave up');
  });
});

describe('deadline', () => {
  it('fires on time with a DeadlineExceededError naming the work, on the injected clock', async () => {
    const clock = new FakeClock();
    const d = deadline(clock, 500, undefined, 'image GC');
    await clock.advance(499);
    expect(d.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(d.reason).toBe('timeout');
    expect(d.signal.reason).toBeInstanceOf(DeadlineExceededError);
    expect((d.signal.reason as Error).message).toBe('image GC exceeded its 500 ms deadline');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires with the caller’s reason when the caller aborts, and at once when it already had', async () => {
    const clock = new FakeClock();
    const ctl = new AbortController();
    const d = deadline(clock, 500, ctl.signal);
    const why = new Error('shutting down');
    ctl.abort(why);
    expect(d.reason).toBe('caller');
    expect(d.signal.reason).toBe(why);
    expect(clock.pendingTimers()).toBe(0);

    const late = deadline(clock, 500, AbortSignal.abort(why));
    expect(late.reason).toBe('caller');
    expect(late.signal.reason).toBe(why);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fires with an AbortError when its owner closes, and only the first end counts', async () => {
    const clock = new FakeClock();
    const d = deadline(clock, 500, undefined, 'a list');
    d.abort('closed');
    d.abort('timeout');
    expect(d.reason).toBe('closed');
    expect(isAbortError(d.signal.reason)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('leaves no timer and no listener on a long-lived parent once ended', async () => {
    const clock = new FakeClock();
    const parent = new AbortController().signal;
    const listeners = watchListeners(parent);
    for (let i = 0; i < 100; i++) deadline(clock, 1_000, parent).end();
    expect(listeners()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('after disarm(), still follows the caller but never times out', async () => {
    const clock = new FakeClock();
    const ctl = new AbortController();
    const d = deadline(clock, 100, ctl.signal);
    d.disarm();
    await clock.advance(1_000);
    await settle();
    expect(d.signal.aborted).toBe(false);
    ctl.abort();
    expect(d.reason).toBe('caller');
    d.end();
  });
});
