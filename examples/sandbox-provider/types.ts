/**
 * The agents.kruise.io/v1alpha1 objects the sandbox Provider reads, as far as it reads them
 * (openkruise agents' api/v1alpha1), with the label, annotation, phase, condition and state
 * names its rules use. Everything else in these objects passes through untouched.
 */
import type { KubeObject, ObjectMeta } from '../../lib/index.js';
import type { ResourceType } from '../../lib/index.js';

export const GROUP = 'agents.kruise.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const sandboxResources = {
  sandboxes: { group: GROUP, version: VERSION, resource: 'sandboxes', kind: 'Sandbox', namespaced: true },
  sandboxSets: { group: GROUP, version: VERSION, resource: 'sandboxsets', kind: 'SandboxSet', namespaced: true },
  checkpoints: { group: GROUP, version: VERSION, resource: 'checkpoints', kind: 'Checkpoint', namespaced: true },
  sandboxTemplates: { group: GROUP, version: VERSION, resource: 'sandboxtemplates', kind: 'SandboxTemplate', namespaced: true },
} as const satisfies Record<string, ResourceType>;

/** Labels and annotations share the `agents.kruise.io/` prefix. */
export const LABEL_SANDBOX_TEMPLATE = `${GROUP}/sandbox-template`;
/** Deprecated name of LABEL_SANDBOX_TEMPLATE, still read as a fallback. */
export const LABEL_SANDBOX_POOL = `${GROUP}/sandbox-pool`;
export const LABEL_SANDBOX_CLAIMED = `${GROUP}/sandbox-claimed`;
export const ANNOTATION_OWNER = `${GROUP}/owner`;

export type SandboxPhase = 'Pending' | 'Running' | 'Paused' | 'Resuming' | 'Upgrading' | 'Succeeded' | 'Failed' | 'Terminating';
export type CheckpointPhase = 'Pending' | 'Creating' | 'Succeeded' | 'Failed' | 'Terminating';
export type SandboxState = 'creating' | 'available' | 'running' | 'paused' | 'dead';

export const SandboxCondition = {
  Ready: 'Ready',
  Paused: 'SandboxPaused',
  Resumed: 'SandboxResumed',
  InplaceUpdate: 'InplaceUpdate',
} as const;

export const REASON_START_CONTAINER_FAILED = 'StartContainerFailed';
export const REASON_INPLACE_UPDATING = 'InplaceUpdating';

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface AgentsMeta extends ObjectMeta {
  generation?: number;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

export interface Sandbox extends KubeObject {
  metadata: AgentsMeta;
  spec?: { paused?: boolean; shutdownTime?: string; pauseTime?: string; [field: string]: unknown };
  status?: {
    phase?: SandboxPhase;
    observedGeneration?: number;
    conditions?: Condition[];
    podInfo?: { podIP?: string; nodeName?: string };
    message?: string;
  };
}

export interface SandboxSet extends KubeObject {
  metadata: AgentsMeta;
  spec?: { replicas?: number; [field: string]: unknown };
  status?: { replicas?: number; availableReplicas?: number; [field: string]: unknown };
}

export interface Checkpoint extends KubeObject {
  metadata: AgentsMeta;
  spec?: { sandboxName?: string; podName?: string; keepRunning?: boolean; [field: string]: unknown };
  status?: { phase?: CheckpointPhase; message?: string; checkpointId?: string; observedGeneration?: number; completionTime?: string };
}

export interface SandboxTemplate extends KubeObject {
  metadata: AgentsMeta;
  spec?: { [field: string]: unknown };
}
