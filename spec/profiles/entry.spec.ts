// The build rule shared by add and refresh (tryPopulateEntry / rebuildEntryFromSources): the
// ladder order, the synthetic base, the shared fast path and the fast-skip test.
import { describe, expect, it } from '@jest/globals';
import { buildEntry, builtFrom, type EntryIdentity, type OverlayPass } from '../../lib/profiles/entry.js';
import type { ApplicationProfile, ContainerProfile } from '../../lib/profiles/types.js';

const identity: EntryIdentity = {
  containerName: 'nginx',
  podName: 'nginx-abc',
  namespace: 'default',
  workloadID: 'wlid://x/',
  cpName: 'pod-nginx-abc-nginx-1234-abcd',
  workloadName: 'pod-nginx-abc',
  userAPRef: { namespace: 'default', name: 'override' },
  userNNRef: { namespace: 'default', name: 'override' },
  podUID: '',
};
const cp: ContainerProfile = {
  metadata: { name: identity.cpName, namespace: 'default', resourceVersion: '7', annotations: { 'kubescape.io/status': 'ready', 'kubescape.io/completion': 'complete' } },
  spec: { execs: [{ path: '/base' }] },
};
const ap = (name: string, rv: string, path: string): ApplicationProfile => ({
  metadata: { name, namespace: 'default', resourceVersion: rv },
  spec: { containers: [{ name: 'nginx', execs: [{ path }] }] },
});

describe('buildEntry', () => {
  it('serves the learned profile object itself when no overlay exists', () => {
    const entry = buildEntry(identity, { cp }, undefined)!;
    expect(entry.profile).toBe(cp);
    expect(entry.shared).toBe(true);
    expect(entry.state).toEqual({ completion: 'complete', status: 'ready', name: identity.cpName });
    expect(entry.resourceVersions.cp).toBe('7');
    expect(Object.isFrozen(entry)).toBe(true);
    expect(Object.isFrozen(entry.resourceVersions)).toBe(true);
  });

  it('applies user-managed overlays before label-referenced ones, each as its own pass', () => {
    const passes: OverlayPass[] = [];
    const entry = buildEntry(identity, { cp, userManagedAP: ap('ug-pod-nginx-abc', '9', '/ug'), userAP: ap('override', '50', '/label') }, undefined, (p) => passes.push(p))!;
    expect(entry.profile.spec?.execs?.map((e) => e.path)).toEqual(['/base', '/ug', '/label']);
    expect(entry.shared).toBe(false);
    expect(passes.map((p) => p.ap?.metadata?.name)).toEqual(['ug-pod-nginx-abc', 'override']);
    expect(entry.resourceVersions).toEqual({ cp: '7', userManagedAP: '9', userManagedNN: '', userAP: '50', userNN: '' });
    expect(cp.spec?.execs).toEqual([{ path: '/base' }]);
  });

  it('builds on an empty synthetic profile named after the workload when only overlays exist', () => {
    const entry = buildEntry(identity, { userAP: ap('override', '10', '/x') }, undefined)!;
    expect(entry.state).toEqual({ completion: 'complete', status: 'completed', name: 'pod-nginx-abc' });
    expect(entry.resourceVersions.cp).toBe('');
    expect(entry.cpName).toBe(identity.cpName);
    expect(entry.profile.spec?.execs).toEqual([{ path: '/x' }]);
  });

  it('builds nothing when every object is absent', () => {
    expect(buildEntry(identity, {}, undefined)).toBeUndefined();
  });

  it('takes the pod UID from the pod unless one is known', () => {
    const pod = { metadata: { uid: 'pod-uid' } };
    expect(buildEntry(identity, { cp }, pod)!.podUID).toBe('pod-uid');
    expect(buildEntry({ ...identity, podUID: 'kept' }, { cp }, pod)!.podUID).toBe('kept');
  });

  it('indexes the call stacks of the served (merged) profile', () => {
    const overlay: ApplicationProfile = {
      metadata: { name: 'override', resourceVersion: '1' },
      spec: { containers: [{ name: 'nginx', identifiedCallStacks: [{ callID: 'u1', callStack: { root: { frame: { fileID: 'f', lineno: '1' } } } }] }] },
    };
    // Call stacks are not part of the AP merge (as upstream), so only the base's stacks are indexed.
    const withStacks: ContainerProfile = { ...cp, spec: { identifiedCallStacks: [{ callID: 'r1', callStack: { root: { frame: { fileID: 'a', lineno: '1' } } } }] } };
    const entry = buildEntry(identity, { cp: withStacks, userAP: overlay }, undefined)!;
    expect([...entry.callStackTree.roots.keys()]).toEqual(['r1']);
  });
});

describe('builtFrom (the fast-skip)', () => {
  it('matches when every resourceVersion is the same and absent objects are still absent', () => {
    const entry = buildEntry(identity, { cp, userAP: ap('override', '50', '/x') }, undefined)!;
    expect(builtFrom(entry, { cp, userAP: ap('override', '50', '/changed-but-same-rv') })).toBe(true);
    expect(builtFrom(entry, { cp, userAP: ap('override', '51', '/x') })).toBe(false);
    expect(builtFrom(entry, { cp })).toBe(false);
    expect(builtFrom(entry, { cp, userAP: ap('override', '50', '/x'), userNN: { metadata: { resourceVersion: '1' } } })).toBe(false);
  });
});
