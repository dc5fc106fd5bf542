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
  /** Labels that must all match exactly. */
  matchLabels?: Record<string, string> | null;
  /** Requirements that must all hold. */
  matchExpressions?: LabelSelectorRequirement[] | null;
}

/** metav1.LabelSelectorRequirement: one key, an operator and values. */
export interface LabelSelectorRequirement {
  /** The label key. */
  key: string;
  /** `In`, `NotIn`, `Exists` or `DoesNotExist`. */
  operator: string;
  /** The values for `In` and `NotIn`. */
  values?: string[];
}

/** One program the container ran. */
export interface ExecCalls {
  /** The executable's path. */
  path?: string;
  /** Its arguments. */
  args?: string[];
  /** Its environment, as recorded. */
  envs?: string[];
}

/** One file the container opened. */
export interface OpenCalls {
  /** The file's path (possibly with dynamic segments). */
  path: string;
  /** The open flags, e.g. `O_RDONLY`. */
  flags?: string[];
}

/** One HTTP endpoint the container served or called. */
export interface HTTPEndpoint {
  /** The endpoint, e.g. `:8080/healthz`. */
  endpoint?: string;
  /** The HTTP methods seen. */
  methods?: string[];
  /** Whether the peer was inside the cluster. */
  internal?: boolean;
  /** `inbound` or `outbound`. */
  direction?: string;
  /** Raw JSON (map of header name to values) on the wire. */
  headers?: unknown;
}

/** Per-rule allowances; the JSON names differ from the Go field names (AllowedProcesses...). */
export interface RulePolicy {
  /** Processes the rule lets through. */
  processAllowed?: string[];
  /** Whether the rule lets the whole container through. */
  containerAllowed?: boolean;
}

/** One frame of a recorded call stack. */
export interface StackFrame {
  /** The file (binary) the frame is in. */
  fileID: string;
  /** The line (offset) within it, as text. */
  lineno: string;
  /** The kind of frame, as the tracer records it; not compared. */
  frameType?: number;
}

/** A frame and the frames called from it. */
export interface CallStackNode {
  /** This node's frame. */
  frame: StackFrame;
  /** The frames called from it; none at a leaf. */
  children?: CallStackNode[];
}

/** A recorded call stack with the ID of the call it led to. */
export interface IdentifiedCallStack {
  /** The call (syscall or event) the stack belongs to. */
  callID: string;
  /** The stack, as a tree from its root frame. */
  callStack: { root: CallStackNode };
}

/** One port of a network neighbor. */
export interface NetworkPort {
  /** "TCP-80" style; the merge key of ports. */
  name: string;
  /** `TCP`, `UDP`... */
  protocol?: string;
  /** The port number; null when unknown. */
  port?: number | null;
}

/** One peer the container talked to (ingress or egress), as a NetworkNeighborhood records it. */
export interface NetworkNeighbor {
  /** The merge key of neighbors. */
  identifier: string;
  /** "internal" or "external". */
  type?: string;
  /** Deprecated upstream in favour of dnsNames; passed through. */
  dns?: string;
  /** The DNS names the peer was reached by; merged as a union. */
  dnsNames?: string[] | null;
  /** The ports used; merged by name. */
  ports?: NetworkPort[] | null;
  /** Selects the peer pods, for an internal peer. */
  podSelector?: LabelSelector | null;
  /** Selects the peer's namespaces, for an internal peer. */
  namespaceSelector?: LabelSelector | null;
  /** The peer's IP, for an external peer. */
  ipAddress?: string;
}

/** The behaviour a profile records for one container; shared by CPs and AP containers. */
export interface ContainerBehaviour {
  /** Linux capabilities used. */
  capabilities?: string[];
  /** Programs run. */
  execs?: ExecCalls[];
  /** Files opened. */
  opens?: OpenCalls[];
  /** System calls made. */
  syscalls?: string[];
  /** The generated seccomp profile; passed through. */
  seccompProfile?: unknown;
  /** HTTP endpoints served or called. */
  endpoints?: HTTPEndpoint[];
  /** The image ID the profile was learned on. */
  imageID?: string;
  /** The image tag the profile was learned on. */
  imageTag?: string;
  /** Per-rule allowances, by rule ID; merged key by key. */
  rulePolicies?: Record<string, RulePolicy> | null;
  /** Recorded call stacks; indexed by CallStackSearchTree. */
  identifiedCallStacks?: IdentifiedCallStack[];
}

/** What one container did: the ApplicationProfileContainer fields plus the network ones. */
export interface ContainerProfileSpec extends LabelSelector, ContainerBehaviour {
  /** CPU architectures the profile was learned on. */
  architectures?: string[];
  /** Peers that connected to the container. */
  ingress?: NetworkNeighbor[] | null;
  /** Peers the container connected to. */
  egress?: NetworkNeighbor[] | null;
}

/** The learned profile of one container (kind ContainerProfile), and what the cache serves. */
export interface ContainerProfile extends KubeObject {
  /** What the container did. */
  spec?: ContainerProfileSpec;
  /** Empty on the wire. */
  status?: Record<string, never>;
}

/** One container's section of an ApplicationProfile. */
export interface ApplicationProfileContainer extends ContainerBehaviour {
  /** The container it is for; matched against the container's name. */
  name?: string;
}

/** A workload's ApplicationProfile; the cache merges user-authored ones as overlays. */
export interface ApplicationProfile extends KubeObject {
  /** Sections per container, by list of the pod spec. */
  spec?: {
    architectures?: string[];
    containers?: ApplicationProfileContainer[];
    initContainers?: ApplicationProfileContainer[];
    ephemeralContainers?: ApplicationProfileContainer[];
  };
}

/** One container's section of a NetworkNeighborhood. */
export interface NetworkNeighborhoodContainer {
  /** The container it is for. */
  name: string;
  /** Peers that connected to it. */
  ingress?: NetworkNeighbor[] | null;
  /** Peers it connected to. */
  egress?: NetworkNeighbor[] | null;
}

/**
 * A workload's NetworkNeighborhood; the cache merges user-authored ones as overlays, and their pod
 * selector over the profile's.
 */
export interface NetworkNeighborhood extends KubeObject {
  /** The pod selector and sections per container. */
  spec?: LabelSelector & {
    containers?: NetworkNeighborhoodContainer[];
    initContainers?: NetworkNeighborhoodContainer[];
    ephemeralContainers?: NetworkNeighborhoodContainer[];
  };
}
