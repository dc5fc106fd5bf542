/**
 * The index functions of the sandbox cache, defined once (upstream's GetIndexFuncs, "the
 * single source of truth"): the Provider registers exactly these on its informers, and the
 * specs build their caches through the same Provider, so production and tests cannot drift.
 */
import type { IndexFunc } from '../../lib/index.js';
import { getSandboxId, getSandboxState, getTemplateFromSandbox, isControlledBySandboxSet } from './state.js';
import { ANNOTATION_OWNER, LABEL_SANDBOX_CLAIMED, type Checkpoint, type Sandbox, type SandboxSet } from './types.js';

export const IndexName = {
  SandboxPool: 'sandboxPool',
  ClaimedSandboxId: 'sandboxID',
  User: 'user',
  TemplateId: 'templateID',
  CheckpointId: 'checkpointID',
} as const;

function owner(obj: Sandbox | Checkpoint): string[] {
  const user = obj.metadata?.annotations?.[ANNOTATION_OWNER];
  return user ? [user] : [];
}

export const sandboxIndexers: Record<string, IndexFunc<Sandbox>> = {
  /**
   * Sandboxes a claim can take from a template's pool: available ones, and ones a SandboxSet
   * is still creating. Computed when the sandbox changes: one whose shutdown time passes
   * without an update stays listed until its next event (as in upstream's field index).
   */
  [IndexName.SandboxPool]: (sbx) => {
    const { state } = getSandboxState(sbx);
    if (state !== 'available' && !(state === 'creating' && isControlledBySandboxSet(sbx))) return [];
    const template = getTemplateFromSandbox(sbx);
    return template ? [template] : [];
  },
  [IndexName.ClaimedSandboxId]: (sbx) => (sbx.metadata?.labels?.[LABEL_SANDBOX_CLAIMED] === 'true' ? [getSandboxId(sbx)] : []),
  [IndexName.User]: owner,
};

export const sandboxSetIndexers: Record<string, IndexFunc<SandboxSet>> = {
  [IndexName.TemplateId]: (sbs) => (sbs.metadata?.name ? [sbs.metadata.name] : []),
};

export const checkpointIndexers: Record<string, IndexFunc<Checkpoint>> = {
  [IndexName.CheckpointId]: (cp) => (cp.status?.checkpointId ? [cp.status.checkpointId] : []),
  [IndexName.User]: owner,
};
