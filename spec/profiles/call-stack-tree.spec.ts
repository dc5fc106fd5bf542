// callstackcache_test.go (catalogue #47–51), with upstream's buildUnifiedStack helper: an empty
// root frame whose first child carries the paths.
import { describe, expect, it } from '@jest/globals';
import { CallStackSearchTree } from '../../lib/profiles/call-stack-tree.js';
import type { CallStackNode, IdentifiedCallStack } from '../../lib/profiles/types.js';

type Frame = [fileID: string, lineno: string];

function buildUnifiedStack(callID: string, paths: Frame[][]): IdentifiedCallStack {
  const root: CallStackNode = { frame: { fileID: '', lineno: '' }, children: [] };
  const stack = { callID, callStack: { root } };
  if (paths.length === 0 || paths[0].length === 0) return stack;
  const first: CallStackNode = { frame: { fileID: paths[0][0][0], lineno: paths[0][0][1] }, children: [] };
  root.children!.push(first);
  for (const path of paths) {
    let current = first;
    for (const [fileID, lineno] of path.slice(1)) {
      let next = current.children!.find((c) => c.frame.fileID === fileID && c.frame.lineno === lineno);
      if (!next) current.children!.push((next = { frame: { fileID, lineno }, children: [] }));
      current = next;
    }
  }
  return stack;
}

const A = '10425069705252389217';
const B = '2918313636494991837';

describe('CallStackSearchTree', () => {
  it('keeps shared frames as single children and branches where paths part (Branching, #47)', () => {
    const tree = new CallStackSearchTree();
    tree.addCallStack(
      buildUnifiedStack('test1', [
        [
          [A, '645761'],
          [A, '653231'],
          [B, '867979'],
          ['4298936378959959569', '390324'],
        ],
        [
          [A, '645761'],
          [A, '653231'],
          [B, '867979'],
          ['0', '4012'],
        ],
      ]),
    );
    let node = tree.roots.get('test1')!;
    for (const [fileID, lineno] of [
      [A, '645761'],
      [A, '653231'],
    ]) {
      expect(node.frame).toMatchObject({ fileID, lineno });
      expect(node.children).toHaveLength(1);
      node = node.children[0];
    }
    expect(node.frame).toMatchObject({ fileID: B, lineno: '867979' });
    expect(node.children.map((c) => `${c.frame.fileID}:${c.frame.lineno}`).sort()).toEqual(['0:4012', '4298936378959959569:390324']);
    expect(tree.pathsByCallID.get('test1')).toHaveLength(2);
  });

  it('stores a linear path in the trie and by call ID (Basic, #48)', () => {
    const tree = new CallStackSearchTree();
    tree.addCallStack(
      buildUnifiedStack('test1', [
        [
          ['1', '1'],
          ['2', '1'],
          ['3', '1'],
        ],
      ]),
    );
    expect(tree.pathsByCallID.get('test1')).toHaveLength(1);
    expect(tree.forwardTrie.get('1:1/2:1/3:1')).toBeDefined();
    let node = tree.roots.get('test1')!;
    for (const fileID of ['1', '2', '3']) {
      expect(node.frame).toMatchObject({ fileID, lineno: '1' });
      if (fileID !== '3') {
        expect(node.children).toHaveLength(1);
        node = node.children[0];
      }
    }
  });

  it('keeps a special frame and parent links back to the root (SpecialFrame, #49)', () => {
    const tree = new CallStackSearchTree();
    tree.addCallStack(
      buildUnifiedStack('test1', [
        [
          [A, '645761'],
          [A, '653231'],
          [B, '867979'],
          ['0', '4012'],
        ],
      ]),
    );
    expect(tree.forwardTrie.get(`${A}:645761/${A}:653231/${B}:867979/0:4012`)).toBeDefined();
    const root = tree.roots.get('test1')!;
    let node = root;
    while (node.children.length > 0) node = node.children[0];
    expect(node.frame).toMatchObject({ fileID: '0', lineno: '4012' });
    while (node.parent) node = node.parent;
    expect(node).toBe(root);
  });

  it('stores nothing for an empty stack (Empty, #50)', () => {
    const tree = new CallStackSearchTree();
    tree.addCallStack(buildUnifiedStack('test1', [[]]));
    expect(tree.pathsByCallID.get('test1') ?? []).toHaveLength(0);
    expect(tree.roots.get('test1')).toBeUndefined();
  });

  it('keeps one tree per call ID (MultipleCallIDs, #51)', () => {
    const tree = new CallStackSearchTree();
    tree.addCallStack(
      buildUnifiedStack('id1', [
        [
          ['1', '1'],
          ['2', '1'],
        ],
      ]),
    );
    tree.addCallStack(
      buildUnifiedStack('id2', [
        [
          ['1', '1'],
          ['2', '2'],
        ],
      ]),
    );
    expect(tree.pathsByCallID.size).toBe(2);
    expect(tree.pathsByCallID.get('id1')).toHaveLength(1);
    expect(tree.pathsByCallID.get('id2')).toHaveLength(1);
    expect(tree.roots.get('id1')!.children[0].frame).toMatchObject({ fileID: '2', lineno: '1' });
    expect(tree.roots.get('id2')!.children[0].frame).toMatchObject({ fileID: '2', lineno: '2' });
  });

  it('keeps the first stack of a call ID and ignores later ones', () => {
    const tree = CallStackSearchTree.from([buildUnifiedStack('r1', [[['1', '1']]]), buildUnifiedStack('r1', [[['9', '9']]])]);
    expect(tree.roots.get('r1')!.frame).toMatchObject({ fileID: '1', lineno: '1' });
    expect(tree.forwardTrie.get('9:9')).toBeUndefined();
  });

  it('starts from a non-empty root frame itself', () => {
    const tree = CallStackSearchTree.from([
      { callID: 'r1', callStack: { root: { frame: { fileID: 'f1', lineno: '10' }, children: [{ frame: { fileID: 'f2', lineno: '20' } }] } } },
    ]);
    expect(tree.pathsByCallID.get('r1')).toEqual([
      [
        { fileID: 'f1', lineno: '10' },
        { fileID: 'f2', lineno: '20' },
      ],
    ]);
  });
});
