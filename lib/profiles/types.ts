/**
 * The shapes of the kubescape storage objects the profile cache reads and serves, as JSON on the
 * wire (kubescape storage v0.0.258, `softwarecomposition/v1beta1`). Only the fields the cache
 * merges or indexes are spelled out; everything else passes through untouched. Every field is
 * optional because the cache must survive objects a newer or older server writes differently: a
 * missing list is read as empty, never as an error.
 */
import type { KubeObject } from '../api/object.js';

/** metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: LabelSelectorRequirement[] | null;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface ExecCalls {
  path?: string;
  args?: string[];
  envs?: string[];
}

export interface OpenCalls {
  path: string;
  flags?: string[];
}

export interface HTTPEndpoint {
  endpoint?: string;
  methods?: string[];
  internal?: boolean;
  direction?: string;
  /** Raw JSON (map of header name to values) on the wire. */
  headers?: unknown;
}

/** Per-rule allowances; the JSON names differ from the Go field names (AllowedProcesses...). */
export interface RulePolicy {
  processAllowed?: string[];
  containerAllowed?: boolean;
}

export interface StackFrame {
  fileID: string;
  lineno: string;
  frameType?: number;
}

export interface CallStackNode {
  frame: StackFrame;
  children?: CallStackNode[];
}

export interface IdentifiedCallStack {
  callID: string;
  callStack: { root: CallStackNode };
}

export interface NetworkPort {
  /** "TCP-80" style; the merge key of ports. */
  name: string;
  protocol?: string;
  port?: number | null;
}

export interface NetworkNeighbor {
  /** The merge key of neighbors. */
  identifier: string;
  /** "internal" or "external". */
  type?: string;
  /** Deprecated upstream in favour of dnsNames; passed through. */
  dns?: string;
  dnsNames?: string[] | null;
  ports?: NetworkPort[] | null;
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipAddress?: string;
}

/** The behaviour a profile records for one container; shared by CPs and AP containers. */
export interface ContainerBehaviour {
  capabilities?: string[];
  execs?: ExecCalls[];
  opens?: OpenCalls[];
  syscalls?: string[];
  seccompProfile?: unknown;
  endpoints?: HTTPEndpoint[];
  imageID?: string;
  imageTag?: string;
  rulePolicies?: Record<string, RulePolicy> | null;
  identifiedCallStacks?: IdentifiedCallStack[];
}

/** What one container did: the ApplicationProfileContainer fields plus the network ones. */
export interface ContainerProfileSpec extends LabelSelector, ContainerBehaviour {
  architectures?: string[];
  ingress?: NetworkNeighbor[] | null;
  egress?: NetworkNeighbor[] | null;
}

export interface ContainerProfile extends KubeObject {
  spec?: ContainerProfileSpec;
  status?: Record<string, never>;
}

export interface ApplicationProfileContainer extends ContainerBehaviour {
  name?: string;
}

export interface ApplicationProfile extends KubeObject {
  spec?: {
    architectures?: string[];
    containers?: ApplicationProfileContainer[];
    initContainers?: ApplicationProfileContainer[];
    ephemeralContainers?: ApplicationProfileContainer[];
  };
}

export interface NetworkNeighborhoodContainer {
  name: string;
  ingress?: NetworkNeighbor[] | null;
  egress?: NetworkNeighbor[] | null;
}

export interface NetworkNeighborhood extends KubeObject {
  spec?: LabelSelector & {
    containers?: NetworkNeighborhoodContainer[];
    initContainers?: NetworkNeighborhoodContainer[];
    ephemeralContainers?: NetworkNeighborhoodContainer[];
  };
}
