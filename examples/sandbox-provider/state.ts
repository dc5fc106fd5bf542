/**
 * The sandbox state rules (openkruise agents' pkg/utils/sandboxutils): the state a sandbox is
 * in, derived from deletion, shutdown time, phase, ownership and conditions, checked in that
 * order; and whether a pause or a resume may start. The pool index and the WaitReady task both
 * rest on `getSandboxState`.
 */
import { API_VERSION, LABEL_SANDBOX_POOL, LABEL_SANDBOX_TEMPLATE, SandboxCondition, type Condition, type Sandbox, type SandboxState } from './types.js';

/** The condition of this type in a sandbox's status, if any. */
export function getCondition(sbx: Sandbox, type: string): Condition | undefined {
  return sbx.status?.conditions?.find((c) => c.type === type);
}

export function isSandboxReady(sbx: Sandbox): boolean {
  return getCondition(sbx, SandboxCondition.Ready)?.status === 'True';
}

/** The controller owner reference is a SandboxSet of this API version. */
export function isControlledBySandboxSet(sbx: Sandbox): boolean {
  const controller = sbx.metadata?.ownerReferences?.find((ref) => ref.controller === true);
  return controller?.kind === 'SandboxSet' && controller.apiVersion === API_VERSION;
}

/** `<namespace>--<name>`: how users and the claimed-sandbox index name a sandbox. */
export function getSandboxId(sbx: Sandbox): string {
  return `${sbx.metadata.namespace ?? ''}--${sbx.metadata.name ?? ''}`;
}

/** The template label, falling back to the deprecated pool label; "" when neither is set. */
export function getTemplateFromSandbox(sbx: Sandbox): string {
  const labels = sbx.metadata?.labels ?? {};
  return labels[LABEL_SANDBOX_TEMPLATE] || labels[LABEL_SANDBOX_POOL] || '';
}

/**
 * The sandbox's state and the unique reason it was chosen for (searchable when debugging).
 * `now` is wall-clock milliseconds, compared with `spec.shutdownTime`.
 */
export function getSandboxState(sbx: Sandbox, now = Date.now()): { state: SandboxState; reason: string } {
  if (sbx.metadata?.deletionTimestamp) return { state: 'dead', reason: 'ResourceDeleted' };
  const shutdown = sbx.spec?.shutdownTime ? Date.parse(sbx.spec.shutdownTime) : NaN;
  if (Number.isFinite(shutdown) && now > shutdown) return { state: 'dead', reason: 'ShutdownTimeReached' };
  const phase = sbx.status?.phase;
  if (phase === 'Pending') return { state: 'creating', reason: 'ResourcePending' };
  if (phase === 'Succeeded') return { state: 'dead', reason: 'ResourceSucceeded' };
  if (phase === 'Failed') return { state: 'dead', reason: 'ResourceFailed' };
  if (phase === 'Terminating') return { state: 'dead', reason: 'ResourceTerminating' };
  const ready = isSandboxReady(sbx);
  if (isControlledBySandboxSet(sbx)) {
    return ready ? { state: 'available', reason: 'ResourceControlledBySbsAndReady' } : { state: 'creating', reason: 'ResourceControlledBySbsButNotReady' };
  }
  if (phase === 'Running') {
    if (sbx.spec?.paused) return { state: 'paused', reason: 'RunningResourceClaimedAndPaused' };
    return ready ? { state: 'running', reason: 'RunningResourceClaimedAndReady' } : { state: 'dead', reason: 'RunningResourceClaimedButNotReady' };
  }
  // Paused and Resuming (and an unset phase) count as paused.
  return { state: 'paused', reason: 'NotRunningResourceClaimed' };
}

/** Whether a pause would not conflict with what the sandbox is doing, and why. */
export function isSandboxPausable(sbx: Sandbox): [boolean, string] {
  if (isControlledBySandboxSet(sbx)) {
    const { state } = getSandboxState(sbx);
    if (state === 'available' || state === 'creating') return [false, 'SandboxStateNotAllowed'];
  }
  const phase = sbx.status?.phase;
  if (phase === 'Running' || phase === 'Paused') return [true, 'SandboxIsRunningOrPaused'];
  return [false, 'SandboxPhaseNotAllowed'];
}

/** Whether a resume would not conflict with what the sandbox is doing, and why. */
export function isSandboxResumable(sbx: Sandbox): [boolean, string] {
  const phase = sbx.status?.phase;
  if (phase === 'Running' || phase === 'Resuming') return [true, 'SandboxIsRunningOrResuming'];
  if (phase === 'Paused') {
    return getCondition(sbx, SandboxCondition.Paused)?.status === 'True' ? [true, 'SandboxIsPaused'] : [false, 'SandboxIsPausing'];
  }
  return [false, 'SandboxPhaseNotAllowed'];
}
