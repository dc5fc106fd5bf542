// node-agent's IgnoreContainer / SkipNamespace rules (pkg/config) and IsHostContainer.
import { describe, expect, it } from '@jest/globals';
import { ignoreContainer, isHostContainer, skipNamespace } from '../../lib/profiles/ignore.js';

describe('ignore rules', () => {
  it('ignores the agent namespace, and with no agent namespace configured, containers without a namespace', () => {
    expect(ignoreContainer({ namespaceName: 'kubescape' }, 'kubescape', 'p')).toBe(true);
    expect(ignoreContainer({ namespaceName: 'kubescape' }, 'default', 'p')).toBe(false);
    expect(ignoreContainer({}, '', 'p')).toBe(true);
  });

  it('ignores node-agent pods only when multiply is set', () => {
    expect(ignoreContainer({ multiply: true }, 'default', 'node-agent-x')).toBe(true);
    expect(ignoreContainer({}, 'default', 'node-agent-x')).toBe(false);
  });

  it('lets an include list win over an exclude list', () => {
    expect(skipNamespace({ includeNamespaces: ['a'], excludeNamespaces: ['a'] }, 'a')).toBe(false);
    expect(skipNamespace({ includeNamespaces: ['a'] }, 'b')).toBe(true);
    expect(skipNamespace({ excludeNamespaces: ['kube-system'] }, 'kube-system')).toBe(true);
    expect(skipNamespace({}, 'anything')).toBe(false);
  });

  it('matches excluded label values case-insensitively', () => {
    const rules = { excludeLabels: { app: ['Debug', 'tmp'] } };
    expect(ignoreContainer(rules, 'default', 'p', { app: 'debug' })).toBe(true);
    expect(ignoreContainer(rules, 'default', 'p', { app: 'web' })).toBe(false);
    expect(ignoreContainer(rules, 'default', 'p', { other: 'debug' })).toBe(false);
  });

  it('recognises the host by PID 1 or the "host" container ID', () => {
    expect(isHostContainer({ pid: 1, containerID: 'abc' })).toBe(true);
    expect(isHostContainer({ pid: 42, containerID: 'host' })).toBe(true);
    expect(isHostContainer({ pid: 42, containerID: 'abc' })).toBe(false);
  });
});
