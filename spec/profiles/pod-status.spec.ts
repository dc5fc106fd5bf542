// reconciler_test.go's isContainerRunning cases (catalogue #13–15) and the eviction predicate.
import { describe, expect, it } from '@jest/globals';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { isContainerRunning, isContainerTerminated, trimRuntimePrefix } from '../../lib/profiles/pod-status.js';

const running = { running: {} };
const terminated = { terminated: { exitCode: 0 } };
const waiting = { waiting: { reason: 'ContainerCreating' } };

function pod(statuses: { containers?: V1ContainerStatus[]; init?: V1ContainerStatus[]; ephemeral?: V1ContainerStatus[] }, uid = 'pod-uid-123'): V1Pod {
  return {
    metadata: { uid },
    status: { containerStatuses: statuses.containers, initContainerStatuses: statuses.init, ephemeralContainerStatuses: statuses.ephemeral },
  };
}
const status = (name: string, containerID: string, state: V1ContainerStatus['state']): V1ContainerStatus =>
  ({ name, containerID, state, image: '', imageID: '', ready: false, restartCount: 0 }) as V1ContainerStatus;

describe('isContainerRunning', () => {
  it('matches a pre-running init container with no published ID by name and pod UID (#13)', () => {
    const p = pod({ init: [status('init-1', '', running)] });
    expect(isContainerRunning(p, { containerName: 'init-1', podUID: 'pod-uid-123' }, 'init-cid')).toBe(true);
    expect(isContainerRunning(p, { containerName: 'init-1', podUID: 'other-uid' }, 'init-cid')).toBe(false);
  });

  it('strips the runtime prefix and matches by container ID (#14)', () => {
    const p = pod({ containers: [status('nginx', 'docker://abc', running)] });
    const entry = { containerName: 'nginx', podUID: 'pod-uid-123' };
    expect(isContainerRunning(p, entry, 'abc')).toBe(true);
    expect(isContainerRunning(p, entry, 'zzz')).toBe(false);
  });

  it('is false for a Terminated container (#15)', () => {
    expect(isContainerRunning(pod({ containers: [status('nginx', 'containerd://abc', terminated)] }), { containerName: 'nginx', podUID: 'pod-uid-123' }, 'abc')).toBe(false);
  });
});

describe('isContainerTerminated', () => {
  const entry = { containerName: 'nginx', podUID: 'pod-uid-123' };

  it('is true for Terminated, false for Running and Waiting', () => {
    expect(isContainerTerminated(pod({ containers: [status('nginx', 'containerd://abc', terminated)] }), entry, 'abc')).toBe(true);
    expect(isContainerTerminated(pod({ containers: [status('nginx', 'containerd://abc', running)] }), entry, 'abc')).toBe(false);
    expect(isContainerTerminated(pod({ containers: [status('nginx', 'containerd://abc', waiting)] }), entry, 'abc')).toBe(false);
  });

  it('treats a container missing from published statuses as reaped, and a pod without statuses as kubelet lag', () => {
    expect(isContainerTerminated(pod({ containers: [status('other', 'containerd://zzz', running)] }), entry, 'abc')).toBe(true);
    expect(isContainerTerminated(pod({}), entry, 'abc')).toBe(false);
  });

  it('looks at init and ephemeral statuses too', () => {
    expect(isContainerTerminated(pod({ init: [status('init', 'containerd://i', terminated)] }), entry, 'i')).toBe(true);
    expect(isContainerTerminated(pod({ ephemeral: [status('dbg', 'containerd://e', running)] }), entry, 'e')).toBe(false);
  });
});

describe('trimRuntimePrefix', () => {
  it('keeps what follows "//", and answers "" without it (as upstream)', () => {
    expect(trimRuntimePrefix('containerd://abc')).toBe('abc');
    expect(trimRuntimePrefix('abc')).toBe('');
  });
});
