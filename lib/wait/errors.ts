/**
 * The ways a wait task fails on its own account (a check or update error is passed through as
 * it is). Each is a class so callers branch with `instanceof`, as Go callers use errors.Is on
 * upstream's ErrWaitNotSatisfied and ErrWaitTaskConflict.
 */

/**
 * The object did not reach the state before the wait ended. `duringDoubleCheck` tells the two
 * ways apart: false when the wait never started (a zero timeout), true when it waited and the
 * final re-read (after a wake-up, the timeout or an abort) still did not satisfy the check.
 */
export class WaitNotSatisfiedError extends Error {
  /**
   * @param object the object waited on.
   * @param action the action waited for.
   * @param duringDoubleCheck whether the wait ran (see the class).
   */
  constructor(
    /** The object's namespace and name. */
    readonly object: { namespace: string; name: string },
    /** The action waited for, e.g. "Pause". */
    readonly action: string,
    /**
     * True when the wait ran and its final re-read still failed the check; false when it never started
     * (a zero timeout).
     */
    readonly duringDoubleCheck: boolean,
  ) {
    super(duringDoubleCheck ? 'object is not satisfied during double check' : 'object is not satisfied');
    this.name = 'WaitNotSatisfiedError';
  }
}

/**
 * Another action already waits on the same object (one action per object at a time, so a
 * Pause and a Resume cannot both believe they own the sandbox). Nothing was acquired.
 */
export class WaitTaskConflictError extends Error {
  /**
   * @param existing the action holding the hook.
   * @param requested the action refused.
   */
  constructor(
    /** The action that holds the object's hook. */
    readonly existing: string,
    /** The action that was refused. */
    readonly requested: string,
  ) {
    super(`another action(${existing})'s wait task already exists`);
    this.name = 'WaitTaskConflictError';
  }
}

/** `wait()` on a pre-acquired task that already waited, is waiting, or was released. */
export class WaitTaskUsedError extends Error {
  constructor() {
    super('pre-acquired wait task already used or released');
    this.name = 'WaitTaskUsedError';
  }
}
