// SingleFlight: concurrent identical calls share one execution (golang.org/x/sync/singleflight).
import { describe, expect, it } from '@jest/globals';
import { SingleFlight } from '../../lib/wait/single-flight.js';
import { AbortError } from '../../lib/util/abort.js';

describe('SingleFlight', () => {
  it('runs concurrent calls with one key once and gives every caller the result', async () => {
    const flights = new SingleFlight();
    let runs = 0;
    let finish!: (v: string) => void;
    const fn = () => (runs++, new Promise<string>((r) => (finish = r)));
    const calls = [flights.do('sandbox:ns:a', fn), flights.do('sandbox:ns:a', fn), flights.do('sandbox:ns:a', fn)];
    expect(flights.inFlight).toBe(1);
    finish('obj');
    await expect(Promise.all(calls)).resolves.toEqual(['obj', 'obj', 'obj']);
    expect(runs).toBe(1);
    expect(flights.inFlight).toBe(0);
  });

  it('keeps different keys apart', async () => {
    const flights = new SingleFlight();
    const [a, b] = await Promise.all([flights.do('k:a', async () => 'a'), flights.do('k:b', async () => 'b')]);
    expect([a, b]).toEqual(['a', 'b']);
  });

  it('shares a failure, then forgets the key so the next call runs again', async () => {
    const flights = new SingleFlight();
    let runs = 0;
    const boom = new Error('404');
    const fail = async () => {
      runs++;
      throw boom;
    };
    await expect(Promise.all([flights.do('k', fail), flights.do('k', fail)])).rejects.toBe(boom);
    expect(runs).toBe(1);
    await expect(flights.do('k', async () => 'ok')).resolves.toBe('ok');
  });

  it('turns a synchronous throw into a rejection for every caller', async () => {
    const flights = new SingleFlight();
    await expect(
      flights.do('k', () => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(flights.inFlight).toBe(0);
  });

  it('lets one caller stop waiting when its signal aborts, while the others still get the shared result', async () => {
    const flights = new SingleFlight();
    let finish!: (v: string) => void;
    let runs = 0;
    const fn = () => (runs++, new Promise<string>((r) => (finish = r)));
    const leaving = new AbortController();
    const impatient = flights.do('k', fn, leaving.signal);
    const patient = flights.do('k', fn, new AbortController().signal);
    leaving.abort();
    await expect(impatient).rejects.toBeInstanceOf(AbortError);
    expect(flights.inFlight).toBe(1);
    finish('obj');
    await expect(patient).resolves.toBe('obj');
    expect([runs, flights.inFlight]).toEqual([1, 0]);
  });

  it('does not start the call for a caller whose signal is already aborted', async () => {
    const flights = new SingleFlight();
    let runs = 0;
    await expect(flights.do('k', async () => void runs++, AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
    expect([runs, flights.inFlight]).toEqual([0, 0]);
  });
});
