/**
 * CallStackSearchTree indexes a profile's identified call stacks so node-agent's rules can ask
 * "was this stack (or a prefix of it) seen while learning?" without walking the raw nested
 * stacks each time (a port of `callstackcache`). It holds three views of the same stacks: every
 * root-to-leaf path in a trie keyed "fileID:lineno/...", the paths per call ID, and one tree per
 * call ID whose nodes know their parents, for walking upwards from a frame.
 */
import { PathTrie } from './path-trie.js';
import type { CallStackNode, IdentifiedCallStack, StackFrame } from './types.js';

/** One frame in a call ID's tree, linked both ways so a rule can walk up from a frame to the root. */
export interface BidirectionalNode {
  /** The call site this node stands for. */
  readonly frame: StackFrame;
  /** The caller's node; undefined at the root. */
  readonly parent: BidirectionalNode | undefined;
  /** The callees' nodes, in the order they were first seen. */
  readonly children: BidirectionalNode[];
}

/**
 * The index of a profile's identified call stacks (node-agent's `callstackcache`): every root-to-leaf
 * path in a trie, the paths per call ID, and a tree per call ID that knows its parents. Build one with
 * `CallStackSearchTree.from(profile.spec?.identifiedCallStacks)`; the cache builds one per entry.
 */
export class CallStackSearchTree {
  /** Every root-to-leaf path, keyed `fileID:lineno/fileID:lineno/...`. */
  readonly forwardTrie = new PathTrie<StackFrame[]>();
  /** The root-to-leaf paths of each call ID, in the order they were found. */
  readonly pathsByCallID = new Map<string, StackFrame[][]>();
  /** One tree per call ID. */
  readonly roots = new Map<string, BidirectionalNode>();

  /** Builds the index of a list of stacks (a served profile's `spec.identifiedCallStacks`). */
  static from(stacks: readonly IdentifiedCallStack[] | undefined): CallStackSearchTree {
    const tree = new CallStackSearchTree();
    for (const stack of stacks ?? []) tree.addCallStack(stack);
    return tree;
  }

  /**
   * Adds one stack. The first stack seen for a call ID wins; later ones are skipped. A stack
   * whose root frame is empty (no fileID, no lineno) is a forest: each child of the root starts
   * its own paths. A stack without paths adds nothing.
   *
   * As upstream, every path is merged into the tree of the first one from depth 1, on the
   * assumption that all paths share the first frame; a path starting elsewhere has its first
   * frame dropped from the tree (it stays intact in the trie and in `pathsByCallID`).
   */
  addCallStack(stack: IdentifiedCallStack): void {
    if (this.roots.has(stack.callID)) return;
    const paths = pathsOf(stack.callStack?.root);
    if (paths.length === 0) return;

    const root = chain(paths[0]);
    this.roots.set(stack.callID, root);
    this.pathsByCallID.set(stack.callID, [paths[0]]);
    this.forwardTrie.put(pathKey(paths[0]), paths[0]);

    for (const frames of paths.slice(1)) {
      this.pathsByCallID.get(stack.callID)!.push(frames);
      this.forwardTrie.put(pathKey(frames), frames);
      let current = root;
      for (const frame of frames.slice(1)) {
        let next = current.children.find((child) => sameFrame(child.frame, frame));
        if (!next) {
          next = { frame, parent: current, children: [] };
          current.children.push(next);
        }
        current = next;
      }
    }
  }
}

/** Every root-to-leaf path of a stack, as frames. */
function pathsOf(root: CallStackNode | undefined): StackFrame[][] {
  const paths: StackFrame[][] = [];
  const walk = (node: CallStackNode, prefix: StackFrame[]) => {
    const path = [...prefix, node.frame];
    const children = node.children ?? [];
    if (children.length === 0) paths.push(path);
    else for (const child of children) walk(child, path);
  };
  if (!root) return paths;
  if (isEmptyFrame(root.frame)) for (const child of root.children ?? []) walk(child, []);
  else walk(root, []);
  return paths;
}

/** A linear tree from one path; returns its root. */
function chain(frames: StackFrame[]): BidirectionalNode {
  const root: BidirectionalNode = { frame: frames[0], parent: undefined, children: [] };
  let current = root;
  for (const frame of frames.slice(1)) {
    const node: BidirectionalNode = { frame, parent: current, children: [] };
    current.children.push(node);
    current = node;
  }
  return root;
}

function isEmptyFrame(frame: StackFrame | undefined): boolean {
  return !frame || ((frame.fileID ?? '') === '' && (frame.lineno ?? '') === '');
}

/** Frames are the same call site when file and line match; the frame type is not compared. */
function sameFrame(a: StackFrame, b: StackFrame): boolean {
  return a.fileID === b.fileID && a.lineno === b.lineno;
}

/** A frame's key in the trie: `fileID:lineno` (the frame type is not part of it). */
export function frameKey(frame: StackFrame): string {
  return `${frame.fileID}:${frame.lineno}`;
}

/** A path's key in the trie: its frames' keys joined by `/`, root first. */
export function pathKey(frames: readonly StackFrame[]): string {
  return frames.map(frameKey).join('/');
}
