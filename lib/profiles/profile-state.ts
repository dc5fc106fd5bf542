/**
 * How far a container's profile has got: node-agent's rule engine reads this (completion and
 * status) to decide whether to alert on behaviour missing from the profile. The values are
 * k8s-interface's (v0.0.207 `instanceidhandler/v1/helpers/keys.go`), read from two annotations
 * of the ContainerProfile the cache serves.
 */
import type { ContainerProfile } from './types.js';

/** Annotation holding a profile's learning status (one of `ProfileStatus`). */
export const STATUS_ANNOTATION = 'kubescape.io/status';
/** Annotation holding whether the profile covers the whole learning period (`ProfileCompletion`). */
export const COMPLETION_ANNOTATION = 'kubescape.io/completion';

/** The values of the `kubescape.io/status` annotation (k8s-interface's names, with their values). */
export const ProfileStatus = {
  Initializing: 'initializing',
  /** Upstream's constant is named `Learning`; its value is "ready". */
  Learning: 'ready',
  Completed: 'completed',
  Incomplete: 'incomplete',
  Unauthorize: 'unauthorize',
  MissingRuntime: 'missing-runtime',
  TooLarge: 'too-large',
  /** The container exited with a non-zero code. */
  Failed: 'failed',
} as const;

/** The values of the `kubescape.io/completion` annotation. */
export const ProfileCompletion = {
  /** Learned from part of the learning period; on a freshly started container it belongs to an earlier incarnation. */
  Partial: 'partial',
  /** Upstream's constant is named `Full`; its value is "complete". */
  Full: 'complete',
} as const;

/** `ProfileState` of node-agent: empty strings where the profile has no such annotation. */
export interface ProfileState {
  /** The `kubescape.io/completion` annotation (see ProfileCompletion); "" when absent. */
  readonly completion: string;
  /** The `kubescape.io/status` annotation (see ProfileStatus); "" when absent. */
  readonly status: string;
  /** The served profile's name: the ContainerProfile's, or the workload slug for a synthetic one. */
  readonly name: string;
  /** Set only for a container the cache holds no profile for. */
  readonly error?: Error;
}

/** The state of a served profile, read from its two annotations; frozen. */
export function profileStateOf(cp: ContainerProfile): ProfileState {
  const annotations = cp.metadata?.annotations ?? {};
  return Object.freeze({
    completion: annotations[COMPLETION_ANNOTATION] ?? '',
    status: annotations[STATUS_ANNOTATION] ?? '',
    name: cp.metadata?.name ?? '',
  });
}

/** The state reported for a container without an entry, worded as upstream. */
export function missingProfileState(containerID: string): ProfileState {
  return Object.freeze({
    completion: '',
    status: '',
    name: '',
    error: new Error(`container ${containerID} not found in container-profile cache`),
  });
}
