// Ports openkruise agents' pkg/cache/tasks_test.go (the four task factories) and the action
// constants of wait_test.go, plus the pause and resume eligibility rules those tasks enforce.
import { describe, expect, it } from '@jest/globals';
import { WaitAction } from '../../../examples/sandbox-provider/tasks.js';
import { getSandboxState, isSandboxPausable, isSandboxResumable } from '../../../examples/sandbox-provider/state.js';
import type { Sandbox } from '../../../examples/sandbox-provider/types.js';
import { checkpoint, pausedCondition, ready, rigPerTest, sandbox, sandboxSetOwner } from './rig.js';

const start = rigPerTest();

describe('task factories', () => {
  it('Pause on an already-paused sandbox: action Pause, the same object, the hook held before wait, gone after it returns', async () => {
    const sbx = sandbox('default', 'sbx-pause-1', {}, { phase: 'Paused', conditions: [pausedCondition()] });
    const rig = await start([sbx]);
    const task = rig.provider.newSandboxPauseTask(sbx);
    try {
      expect(task.action).toBe(WaitAction.Pause);
      expect(task.object).toBe(sbx);
      expect(rig.provider.waitHooks.get(task.key)).toBe(task.hook);
      await expect(task.wait(100)).resolves.toBeUndefined();
      expect(rig.provider.waitHooks.get(task.key)).toBeUndefined();
    } finally {
      task.release();
    }
    await rig.shutdown();
  });

  it('Resume on a running, ready sandbox: the same pattern', async () => {
    const sbx = sandbox('default', 'sbx-resume-1', {}, { phase: 'Running', conditions: [ready('True', { reason: 'PodReady' })] });
    const rig = await start([sbx]);
    const task = rig.provider.newSandboxResumeTask(sbx);
    try {
      expect([task.action, task.object]).toEqual([WaitAction.Resume, sbx]);
      expect(rig.provider.waitHooks.get(task.key)).toBe(task.hook);
      await expect(task.wait(100)).resolves.toBeUndefined();
      expect(rig.provider.waitHooks.size).toBe(0);
    } finally {
      task.release();
    }
    await rig.shutdown();
  });

  it('WaitReady on generation 1 observed, running, with a pod IP and Ready: satisfied at once', async () => {
    const sbx = sandbox(
      'default',
      'sbx-wait-1',
      { generation: 1 },
      { observedGeneration: 1, phase: 'Running', podInfo: { podIP: '10.0.0.1' }, conditions: [ready('True', { reason: 'PodReady' })] },
    );
    const rig = await start([sbx]);
    const task = rig.provider.newSandboxWaitReadyTask(sbx);
    expect(task.action).toBe(WaitAction.WaitReady);
    await expect(task.wait(100)).resolves.toBeUndefined();
    await rig.shutdown();
  });

  it('WaitReady with Ready reason StartContainerFailed fails with "start container failed"', async () => {
    const sbx = sandbox(
      'default',
      'sbx-wait-2',
      { generation: 1 },
      { observedGeneration: 1, conditions: [ready('False', { reason: 'StartContainerFailed', message: 'OCI create failed' })] },
    );
    const rig = await start([sbx]);
    await expect(rig.provider.newSandboxWaitReadyTask(sbx).wait(100)).rejects.toThrow('sandbox start container failed: OCI create failed');
    await rig.shutdown();
  });

  it('WaitReady is not satisfied while the generation is unobserved or an in-place update runs', async () => {
    const base = { phase: 'Running' as const, podInfo: { podIP: '10.0.0.1' }, conditions: [ready()] };
    const rig = await start();
    const check = (s: Sandbox) =>
      rig.provider
        .newSandboxWaitReadyTask(s)
        .wait(0)
        .then(
          () => true,
          () => false,
        );
    expect(await check(sandbox('default', 'a', { generation: 2 }, { ...base, observedGeneration: 1 }))).toBe(false);
    expect(
      await check(
        sandbox('default', 'b', { generation: 1 }, { ...base, observedGeneration: 1, conditions: [ready(), { type: 'InplaceUpdate', status: 'True', reason: 'InplaceUpdating' }] }),
      ),
    ).toBe(false);
    expect(await check(sandbox('default', 'c', { generation: 1 }, { ...base, observedGeneration: 1, podInfo: {} }))).toBe(false);
    expect(await check(sandbox('default', 'd', { generation: 1 }, { ...base, observedGeneration: 1 }))).toBe(true);
    await rig.shutdown();
  });

  it('Checkpoint Succeeded with an id: satisfied', async () => {
    const cp = checkpoint('default', 'cp-1', { phase: 'Succeeded', checkpointId: 'ckpt-abc' });
    const rig = await start([cp]);
    const task = rig.provider.newCheckpointTask(cp);
    expect(task.action).toBe(WaitAction.Checkpoint);
    await expect(task.wait(100)).resolves.toBeUndefined();
    await rig.shutdown();
  });

  it('Checkpoint Failed "disk full" fails with "checkpoint default/cp-2 failed: disk full"; Succeeded without an id fails too', async () => {
    const rig = await start();
    await expect(rig.provider.newCheckpointTask(checkpoint('default', 'cp-2', { phase: 'Failed', message: 'disk full' })).wait(100)).rejects.toThrow(
      'checkpoint default/cp-2 failed: disk full',
    );
    await expect(rig.provider.newCheckpointTask(checkpoint('default', 'cp-3', { phase: 'Succeeded' })).wait(100)).rejects.toThrow('checkpoint default/cp-3 has no checkpoint id');
    await rig.shutdown();
  });

  it('Pause on a sandbox a SandboxSet is still creating fails with "not pausable, reason: SandboxStateNotAllowed"', async () => {
    const sbx = sandbox('default', 'pool-member', { ownerReferences: sandboxSetOwner() }, { phase: 'Running' });
    const rig = await start([sbx]);
    const task = rig.provider.newSandboxPauseTask(sbx);
    await expect(task.wait(100)).rejects.toThrow('sandbox default/pool-member is not pausable, reason: SandboxStateNotAllowed');
    expect(rig.provider.waitHooks.size).toBe(0);
    await rig.shutdown();
  });

  it("has upstream's action names", () => {
    expect(WaitAction).toEqual({ Resume: 'Resume', Pause: 'Pause', WaitReady: 'WaitReady', Checkpoint: 'Checkpoint' });
  });
});

describe('sandbox state rules', () => {
  const at = Date.parse('2026-01-01T00:00:00Z');
  const state = (s: Sandbox) => getSandboxState(s, at);
  const pool = { ownerReferences: sandboxSetOwner() };

  it.each([
    ['deleted', sandbox('d', 'x', { deletionTimestamp: '2025-01-01T00:00:00Z' } as object, { phase: 'Running' }), 'dead', 'ResourceDeleted'],
    ['past its shutdown time', sandbox('d', 'x', {}, { phase: 'Running', conditions: [ready()] }, { shutdownTime: '2025-12-31T23:59:59Z' }), 'dead', 'ShutdownTimeReached'],
    [
      'before its shutdown time, running and ready',
      sandbox('d', 'x', {}, { phase: 'Running', conditions: [ready()] }, { shutdownTime: '2026-01-01T00:00:01Z' }),
      'running',
      'RunningResourceClaimedAndReady',
    ],
    ['pending', sandbox('d', 'x', pool, { phase: 'Pending', conditions: [ready()] }), 'creating', 'ResourcePending'],
    ['succeeded', sandbox('d', 'x', {}, { phase: 'Succeeded' }), 'dead', 'ResourceSucceeded'],
    ['failed', sandbox('d', 'x', {}, { phase: 'Failed' }), 'dead', 'ResourceFailed'],
    ['terminating', sandbox('d', 'x', {}, { phase: 'Terminating' }), 'dead', 'ResourceTerminating'],
    ['in a pool and ready', sandbox('d', 'x', pool, { phase: 'Running', conditions: [ready()] }), 'available', 'ResourceControlledBySbsAndReady'],
    ['in a pool, not ready', sandbox('d', 'x', pool, { phase: 'Running' }), 'creating', 'ResourceControlledBySbsButNotReady'],
    ['claimed, running, paused in spec', sandbox('d', 'x', {}, { phase: 'Running', conditions: [ready()] }, { paused: true }), 'paused', 'RunningResourceClaimedAndPaused'],
    ['claimed, running, not ready', sandbox('d', 'x', {}, { phase: 'Running' }), 'dead', 'RunningResourceClaimedButNotReady'],
    ['claimed, resuming', sandbox('d', 'x', {}, { phase: 'Resuming' }), 'paused', 'NotRunningResourceClaimed'],
  ])('%s', (_name, sbx, expected, reason) => {
    expect(state(sbx)).toEqual({ state: expected, reason });
  });

  it('decides pausable and resumable as upstream', () => {
    expect(isSandboxPausable(sandbox('d', 'x', {}, { phase: 'Running' }))).toEqual([true, 'SandboxIsRunningOrPaused']);
    expect(isSandboxPausable(sandbox('d', 'x', {}, { phase: 'Pending' }))).toEqual([false, 'SandboxPhaseNotAllowed']);
    expect(isSandboxResumable(sandbox('d', 'x', {}, { phase: 'Resuming' }))).toEqual([true, 'SandboxIsRunningOrResuming']);
    expect(isSandboxResumable(sandbox('d', 'x', {}, { phase: 'Paused', conditions: [pausedCondition()] }))).toEqual([true, 'SandboxIsPaused']);
    expect(isSandboxResumable(sandbox('d', 'x', {}, { phase: 'Paused', conditions: [pausedCondition('False')] }))).toEqual([false, 'SandboxIsPausing']);
    expect(isSandboxResumable(sandbox('d', 'x', {}, { phase: 'Failed' }))).toEqual([false, 'SandboxPhaseNotAllowed']);
  });
});
