/**
 * The checks behind the Provider's four wait tasks (upstream's tasks.go). They are fixed per
 * task, so one (kind, namespace, name, action) hook can never be paired with a different
 * predicate: a second Pause waiter joins the first one's hook knowing it checks the same thing.
 */
import { getCondition, getSandboxState, isSandboxPausable, isSandboxResumable } from './state.js';
import { REASON_INPLACE_UPDATING, REASON_START_CONTAINER_FAILED, SandboxCondition, type Checkpoint, type Sandbox } from './types.js';

export const WaitAction = {
  Resume: 'Resume',
  Pause: 'Pause',
  WaitReady: 'WaitReady',
  Checkpoint: 'Checkpoint',
} as const;

function name(obj: Sandbox | Checkpoint): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** Paused: the SandboxPaused condition is True. Fails at once for a sandbox that may not pause. */
export function pauseSatisfied(sbx: Sandbox): boolean {
  const [pausable, reason] = isSandboxPausable(sbx);
  if (!pausable) throw new Error(`sandbox ${name(sbx)} is not pausable, reason: ${reason}`);
  return getCondition(sbx, SandboxCondition.Paused)?.status === 'True';
}

/** Resumed: the Ready condition is True. Fails at once for a sandbox that may not resume. */
export function resumeSatisfied(sbx: Sandbox): boolean {
  const [resumable, reason] = isSandboxResumable(sbx);
  if (!resumable) throw new Error(`sandbox ${name(sbx)} is not resumable, reason: ${reason}`);
  return getCondition(sbx, SandboxCondition.Ready)?.status === 'True';
}

/**
 * Ready after a claim: the controller observed this generation, is not updating in place,
 * the sandbox runs and has a pod IP. A failed container start fails the wait.
 */
export function waitReadySatisfied(sbx: Sandbox): boolean {
  if ((sbx.status?.observedGeneration ?? 0) !== (sbx.metadata.generation ?? 0)) return false;
  const ready = getCondition(sbx, SandboxCondition.Ready);
  if (ready?.reason === REASON_START_CONTAINER_FAILED) throw new Error(`sandbox start container failed: ${ready.message ?? ''}`);
  if (getCondition(sbx, SandboxCondition.InplaceUpdate)?.reason === REASON_INPLACE_UPDATING) return false;
  return getSandboxState(sbx).state === 'running' && !!sbx.status?.podInfo?.podIP;
}

/** Done: phase Succeeded with a checkpoint id. Terminating or Failed fails the wait. */
export function checkpointSatisfied(cp: Checkpoint): boolean {
  switch (cp.status?.phase) {
    case 'Terminating':
    case 'Failed':
      throw new Error(`checkpoint ${name(cp)} failed: ${cp.status.message ?? ''}`);
    case 'Succeeded':
      if (!cp.status.checkpointId) throw new Error(`checkpoint ${name(cp)} has no checkpoint id`);
      return true;
    default:
      return false;
  }
}
