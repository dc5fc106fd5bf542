// The naming rules of k8s-interface v0.0.207 (containerinstance/instanceidhandler_test.go,
// names/slugs_test.go): golden slugs from upstream's own tests, the 253-character rule, and the
// derivation of an instance ID from a pod.
import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import {
  InvalidSlugError,
  MAX_NAME_LENGTH,
  containerProfileName,
  instanceIDFromPod,
  instanceIDString,
  instanceSlug,
  userManagedProfileName,
  workloadSlug,
  type InstanceID,
} from '../../lib/profiles/names.js';

const id = (o: Partial<InstanceID>): InstanceID => ({ apiVersion: 'v1', namespace: 'default', kind: 'Pod', name: 'p', containerName: '', instanceType: 'container', ...o });

describe('instanceSlug', () => {
  it.each([
    [id({ name: 'reverse-proxy', containerName: 'nginx' }), false, 'pod-reverse-proxy-nginx-2f07-68bd'],
    [id({ kind: 'Service', name: 'webapp', containerName: 'leader' }), false, 'service-webapp-leader-cca3-8ea7'],
    [id({ kind: 'Service', name: 'webapp' }), false, 'service-webapp'],
    [id({ name: 'my-pod', containerName: 'my-container' }), true, 'pod-my-pod'],
    [id({ kind: 'Deployment', name: 'my-deployment', containerName: 'main-app' }), false, 'deployment-my-deployment-main-app-f9c2-5136'],
    [
      id({
        apiVersion: 'apps/v1',
        namespace: 'kube-system',
        kind: 'DaemonSet',
        name: 'fluentd',
        alternateName: 'fluentd-ds-alt',
        containerName: 'fluentd-container',
        instanceType: 'initContainer',
      }),
      true,
      'daemonset-fluentd-ds-alt',
    ],
    [
      id({ apiVersion: 'batch/v1', namespace: 'processing', kind: 'Job', name: 'data-processor', alternateName: 'processor-job-alt', containerName: 'worker' }),
      false,
      'job-processor-job-alt-worker-32c7-f0b9',
    ],
    [id({ name: 'pod-no-cont-name' }), false, 'pod-pod-no-cont-name'],
  ])('matches upstream: %j (noContainer=%s) → %s', (input, noContainer, want) => {
    expect(instanceSlug(input, noContainer)).toBe(want);
  });

  it('rejects names that are not DNS subdomains (ErrInvalidSlug)', () => {
    expect(() => instanceSlug(id({ kind: 'Service', name: 'web/app', containerName: 'leader' }), false)).toThrow(InvalidSlugError);
  });

  it('hashes the alternate name, not the name, when one is set', () => {
    expect(instanceIDString(id({ name: 'a', alternateName: 'b', containerName: 'c' }))).toBe('apiVersion-v1/namespace-default/kind-Pod/name-b/containerName-c');
  });

  it('keeps a slug of 242 characters as it is and cuts one of 243 to 243 plus the hash suffix (the 253 rule)', () => {
    const kind = 'Service';
    const fits = id({ kind, name: 'a'.repeat(242 - 'service-'.length) });
    expect(instanceSlug(fits, true)).toBe(`service-${'a'.repeat(234)}`);

    const long = id({ kind, name: 'a'.repeat(300) + 'b' });
    const slug = instanceSlug(long, true);
    expect(slug).toHaveLength(MAX_NAME_LENGTH);
    expect(slug).toMatch(/^service-a{235}-[0-9a-f]{4}-[0-9a-f]{4}$/);
    // The suffix is the container-inclusive hash, so two long names differing only at the end stay distinct.
    expect(instanceSlug(id({ kind, name: 'a'.repeat(300) + 'c' }), true)).not.toBe(slug);
  });

  it('cuts a long container slug so the result is exactly 253 characters', () => {
    const slug = containerProfileName(id({ name: 'x'.repeat(200), containerName: 'y'.repeat(60) }));
    expect(slug).toHaveLength(253);
    expect(slug.startsWith(`pod-${'x'.repeat(200)}-${'y'.repeat(38)}`)).toBe(true);
  });

  it('lower-cases kinds and names', () => {
    expect(workloadSlug(id({ kind: 'ReplicaSet', name: 'Nginx-7d' }))).toBe('replicaset-nginx-7d');
  });

  it('prefixes user-managed names with ug-', () => {
    expect(userManagedProfileName('replicaset-nginx-7d')).toBe('ug-replicaset-nginx-7d');
  });
});

describe('instanceIDFromPod', () => {
  const pod = (meta: V1Pod['metadata'], spec: V1Pod['spec'] = { containers: [{ name: 'app' }] }): V1Pod => ({ metadata: { namespace: 'ns', name: 'web-1', ...meta }, spec });

  it('uses the pod itself when it has no owner (upstream primeSharedData)', () => {
    expect(instanceIDFromPod(pod({}), 'app')).toEqual({ apiVersion: 'v1', namespace: 'ns', kind: 'Pod', name: 'web-1', containerName: 'app', instanceType: 'container' });
  });

  it('uses the first owner for a workload kind, with its template hash', () => {
    const id = instanceIDFromPod(
      pod({ labels: { 'pod-template-hash': '7d8f' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d8f', uid: 'u' }] }),
      'app',
    );
    expect(id).toMatchObject({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d8f', templateHash: '7d8f' });
    expect(workloadSlug(id!)).toBe('replicaset-web-7d8f');
  });

  it('ignores Node owners and unknown kinds', () => {
    for (const kind of ['Node', 'SomeOperatorThing']) {
      expect(instanceIDFromPod(pod({ ownerReferences: [{ apiVersion: 'x/v1', kind, name: 'o', uid: 'u' }] }), 'app')).toMatchObject({ kind: 'Pod', name: 'web-1' });
    }
  });

  it('takes StatefulSet and DaemonSet alternate names from the controller revision label', () => {
    const labels = { 'controller-revision-hash': 'web-5c9' };
    expect(instanceIDFromPod(pod({ labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u' }] }), 'app')?.alternateName).toBe('web-5c9');
    expect(instanceIDFromPod(pod({ labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u' }] }), 'app')?.alternateName).toBe(
      'agent-web-5c9',
    );
  });

  it('knows init and ephemeral containers, and answers undefined for a container the pod lacks', () => {
    const spec = { containers: [{ name: 'app' }], initContainers: [{ name: 'init' }], ephemeralContainers: [{ name: 'debug' }] };
    expect(instanceIDFromPod(pod({}, spec), 'init')?.instanceType).toBe('initContainer');
    expect(instanceIDFromPod(pod({}, spec), 'debug')?.instanceType).toBe('ephemeralContainer');
    expect(instanceIDFromPod(pod({}, spec), 'nope')).toBeUndefined();
    expect(instanceIDFromPod({ metadata: { name: 'x' }, spec }, 'app')).toBeUndefined();
  });
});
