/**
 * Helpers that let a loop stop waiting the moment its AbortSignal fires, even when the promise
 * it waits on (a blocked list, a silent watch) does not listen to the signal itself.
 */

/** Thrown by `raceAbort` when the signal wins. */
export class AbortedError extends Error {
  constructor() {
    super('operation aborted');
    this.name = 'AbortError';
  }
}

/** Resolves like `promise`, or rejects with AbortedError as soon as `signal` aborts. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(new AbortedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function isAbortError(err: unknown): boolean {
  return err instanceof AbortedError || (err instanceof Error && err.name === 'AbortError');
}
