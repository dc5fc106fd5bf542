// How one object read is classified: found, absent (NotFound) or failed (anything else, the
// budget running out, an abort), with no timer left behind.
import { describe, expect, it } from '@jest/globals';
import { StatusError, newNotFound } from '../../lib/api/errors.js';
import type { Store } from '../../lib/manager/interfaces.js';
import { readObject } from '../../lib/profiles/read-object.js';
import { DeadlineExceededError } from '../../lib/util/abort.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';

function storeAnswering(get: () => Promise<unknown>): Store<unknown> {
  return { addReference() {}, deleteReference() {}, get };
}

describe('readObject', () => {
  const clock = new FakeClock();
  const opts = (signal = new AbortController().signal) => ({ clock, budget: 100, signal });

  it('sorts answers into found, absent and failed', async () => {
    await expect(
      readObject(
        storeAnswering(async () => ({ metadata: {} })),
        'ns',
        'n',
        opts(),
      ),
    ).resolves.toEqual({ status: 'found', object: { metadata: {} } });
    await expect(
      readObject(
        storeAnswering(async () => Promise.reject(newNotFound('x', 'n'))),
        'ns',
        'n',
        opts(),
      ),
    ).resolves.toEqual({ status: 'absent' });
    const failed = await readObject(
      storeAnswering(async () => Promise.reject(new StatusError(500, 'InternalError', 'boom'))),
      'ns',
      'n',
      opts(),
    );
    expect(failed).toMatchObject({ status: 'failed' });
    await expect(
      readObject(
        storeAnswering(async () => 'text'),
        'ns',
        'n',
        opts(),
      ),
    ).resolves.toMatchObject({ status: 'failed' });
    await expect(
      readObject(
        storeAnswering(() => {
          throw new Error('sync');
        }),
        'ns',
        'n',
        opts(),
      ),
    ).resolves.toMatchObject({ status: 'failed' });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails a read that outlasts the budget, on the injected clock', async () => {
    const result = readObject(
      storeAnswering(() => new Promise(() => {})),
      'ns',
      'n',
      opts(),
    );
    await settle();
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(100);
    const r = await result;
    expect(r.status).toBe('failed');
    expect(r.status === 'failed' && r.error).toBeInstanceOf(DeadlineExceededError);
    expect(r.status === 'failed' && (r.error as Error).message).toBe('reading ns/n exceeded its 100 ms deadline');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('fails at once when the signal aborts, and never starts when it already has', async () => {
    const ctl = new AbortController();
    const result = readObject(
      storeAnswering(() => new Promise(() => {})),
      'ns',
      'n',
      opts(ctl.signal),
    );
    const closing = new Error('closing');
    ctl.abort(closing);
    await expect(result).resolves.toEqual({ status: 'failed', error: closing });
    let called = false;
    await readObject(
      storeAnswering(async () => ((called = true), {})),
      'ns',
      'n',
      opts(ctl.signal),
    );
    expect(called).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });
});
