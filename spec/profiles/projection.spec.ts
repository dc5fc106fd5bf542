// projection_test.go (catalogue #36–42), plus the neighbor, port and selector merge rules of
// projection.go, and the promise that nothing the caller passed in is written to.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { mergeNetworkNeighbor, mergePolicies, projectUserProfiles } from '../../lib/profiles/projection.js';
import type { ApplicationProfile, ContainerProfile, NetworkNeighborhood } from '../../lib/profiles/types.js';

function baseCP(): ContainerProfile {
  return {
    metadata: { name: 'cp', namespace: 'default', resourceVersion: '1' },
    spec: {
      capabilities: ['SYS_PTRACE'],
      execs: [{ path: '/bin/ls', args: ['-la'] }],
      rulePolicies: { R0901: { processAllowed: ['ls'] } },
      ingress: [{ identifier: 'ing-1', dnsNames: ['a.svc.local'] }],
    },
  };
}

const podWith = (...names: string[]): V1Pod => ({ spec: { containers: names.map((name) => ({ name })) } });

function userAP(containers: NonNullable<ApplicationProfile['spec']>['containers']): ApplicationProfile {
  return { metadata: { name: 'ua', namespace: 'default', resourceVersion: 'u1' }, spec: { containers } };
}

describe('projectUserProfiles', () => {
  it('merges a matching AP container: capabilities, execs and rule policies, with no warning (#36)', () => {
    const cp = baseCP();
    const ap = userAP([
      {
        name: 'nginx',
        capabilities: ['NET_BIND_SERVICE'],
        execs: [{ path: '/bin/cat' }],
        rulePolicies: { R0901: { processAllowed: ['cat'] }, R0902: { processAllowed: ['echo'] } },
      },
    ]);
    const { profile, warnings } = projectUserProfiles(cp, ap, undefined, podWith('nginx'), 'nginx');
    expect(warnings).toEqual([]);
    expect(profile).not.toBe(cp);
    expect(profile.spec?.capabilities).toEqual(['SYS_PTRACE', 'NET_BIND_SERVICE']);
    expect(profile.spec?.execs).toHaveLength(2);
    expect(profile.spec?.rulePolicies).toEqual({ R0901: { processAllowed: ['ls', 'cat'] }, R0902: { processAllowed: ['echo'] } });
  });

  it('merges a matching NN container by identifier and overlays the label selector (#37)', () => {
    const cp = baseCP();
    cp.spec!.matchLabels = { app: 'nginx' };
    const nn: NetworkNeighborhood = {
      metadata: { name: 'un', namespace: 'default', resourceVersion: 'n1' },
      spec: {
        matchLabels: { env: 'prod' },
        containers: [
          {
            name: 'nginx',
            ingress: [
              { identifier: 'ing-1', dnsNames: ['b.svc.local'] },
              { identifier: 'ing-2', dnsNames: ['c.svc.local'] },
            ],
          },
        ],
      },
    };
    const { profile, warnings } = projectUserProfiles(cp, undefined, nn, podWith('nginx'), 'nginx');
    expect(warnings).toEqual([]);
    expect(profile.spec?.ingress).toHaveLength(2);
    expect(new Set(profile.spec?.ingress?.find((n) => n.identifier === 'ing-1')?.dnsNames)).toEqual(new Set(['a.svc.local', 'b.svc.local']));
    expect(profile.spec?.matchLabels).toEqual({ app: 'nginx', env: 'prod' });
  });

  it('applies AP and NN in one call (#38)', () => {
    const nn: NetworkNeighborhood = { metadata: { name: 'un', namespace: 'default' }, spec: { containers: [{ name: 'nginx', ingress: [{ identifier: 'ing-new' }] }] } };
    const { profile, warnings } = projectUserProfiles(baseCP(), userAP([{ name: 'nginx', capabilities: ['NET_ADMIN'] }]), nn, podWith('nginx'), 'nginx');
    expect(warnings).toEqual([]);
    expect(profile.spec?.capabilities).toContain('NET_ADMIN');
    expect(profile.spec?.ingress).toHaveLength(2);
  });

  it('merges nothing for a non-matching container but warns about every pod container (#39)', () => {
    const { profile, warnings } = projectUserProfiles(baseCP(), userAP([{ name: 'other', capabilities: ['NET_BIND_SERVICE'] }]), undefined, podWith('nginx', 'sidecar'), 'nginx');
    expect(profile.spec?.capabilities).toEqual(['SYS_PTRACE']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'application', namespace: 'default', name: 'ua', resourceVersion: 'u1' });
    expect(new Set(warnings[0].missingContainers)).toEqual(new Set(['nginx', 'sidecar']));
  });

  it('warns about exactly the pod containers the AP lacks (#40)', () => {
    const { profile, warnings } = projectUserProfiles(baseCP(), userAP([{ name: 'nginx', capabilities: ['NET_BIND_SERVICE'] }]), undefined, podWith('nginx', 'sidecar'), 'nginx');
    expect(profile.spec?.capabilities).toContain('NET_BIND_SERVICE');
    expect(warnings.map((w) => [w.kind, w.missingContainers])).toEqual([['application', ['sidecar']]]);
  });

  it('returns a distinct equal copy with no overlays (#41)', () => {
    const cp = baseCP();
    const { profile, warnings } = projectUserProfiles(cp, undefined, undefined, podWith('nginx'), 'nginx');
    expect(warnings).toEqual([]);
    expect(profile).not.toBe(cp);
    expect(profile).toEqual(cp);
  });

  it('still merges without a pod, but skips the missing-container warning (#42)', () => {
    const { profile, warnings } = projectUserProfiles(baseCP(), userAP([{ name: 'nginx', capabilities: ['NET_BIND_SERVICE'] }]), undefined, undefined, 'nginx');
    expect(warnings).toEqual([]);
    expect(profile.spec?.capabilities).toContain('NET_BIND_SERVICE');
  });

  it('finds the container in init, then ephemeral sections when not among regular containers', () => {
    const ap: ApplicationProfile = {
      metadata: { name: 'ua' },
      spec: { initContainers: [{ name: 'init', syscalls: ['open'] }], ephemeralContainers: [{ name: 'init', syscalls: ['never'] }] },
    };
    expect(projectUserProfiles(baseCP(), ap, undefined, undefined, 'init').profile.spec?.syscalls).toEqual(['open']);
  });

  it('overlays the NN label selector even when no container section matches', () => {
    const nn: NetworkNeighborhood = {
      metadata: { name: 'un' },
      spec: { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }], containers: [] },
    };
    const { profile } = projectUserProfiles(baseCP(), undefined, nn, undefined, 'nginx');
    expect(profile.spec?.matchLabels).toEqual({ env: 'prod' });
    expect(profile.spec?.matchExpressions).toEqual([{ key: 'tier', operator: 'In', values: ['web'] }]);
  });

  it('never writes to the base profile or the overlays', () => {
    const cp = baseCP();
    const ap = userAP([{ name: 'nginx', capabilities: ['X'], rulePolicies: { R0901: { processAllowed: ['cat'] } } }]);
    const nn: NetworkNeighborhood = {
      metadata: { name: 'un' },
      spec: { matchLabels: { a: 'b' }, containers: [{ name: 'nginx', ingress: [{ identifier: 'ing-1', dnsNames: ['z'], ports: [{ name: 'TCP-80', port: 80 }] }] }] },
    };
    const before = structuredClone([cp, ap, nn]);
    const { profile } = projectUserProfiles(cp, ap, nn, podWith('nginx'), 'nginx');
    profile.spec!.capabilities!.push('MUTATED');
    profile.spec!.ingress![0].dnsNames!.push('mutated');
    profile.spec!.ingress![0].ports?.push({ name: 'x' });
    expect([cp, ap, nn]).toEqual(before);
  });
});

describe('merge helpers', () => {
  it('MergePolicies: container allowed by either side, processes united', () => {
    expect(mergePolicies({ containerAllowed: false, processAllowed: ['a', 'b'] }, { containerAllowed: true, processAllowed: ['b', 'c'] })).toEqual({
      containerAllowed: true,
      processAllowed: ['a', 'b', 'c'],
    });
    expect(mergePolicies({}, {})).toEqual({});
  });

  it('mergeNetworkNeighbor: DNS union, ports by name (user wins), selectors overlaid, IP and type replaced when set', () => {
    const merged = mergeNetworkNeighbor(
      { identifier: 'n', type: 'internal', dnsNames: ['a'], ports: [{ name: 'TCP-80', port: 80 }], podSelector: { matchLabels: { app: 'x', keep: '1' } }, ipAddress: '10.0.0.1' },
      {
        identifier: 'n',
        type: 'external',
        dnsNames: ['a', 'b'],
        ports: [
          { name: 'TCP-80', port: 8080 },
          { name: 'UDP-53', port: 53 },
        ],
        podSelector: { matchLabels: { app: 'y' } },
        namespaceSelector: { matchLabels: { ns: 'z' } },
        ipAddress: '',
      },
    );
    expect(merged).toEqual({
      identifier: 'n',
      type: 'external',
      dnsNames: ['a', 'b'],
      ports: [
        { name: 'TCP-80', port: 8080 },
        { name: 'UDP-53', port: 53 },
      ],
      podSelector: { matchLabels: { app: 'y', keep: '1' } },
      namespaceSelector: { matchLabels: { ns: 'z' } },
      ipAddress: '10.0.0.1',
    });
  });
});
