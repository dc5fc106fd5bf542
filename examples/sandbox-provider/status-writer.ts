/**
 * Writes to the `/status` subresource, which ObjectWriter does not cover: what a controller
 * (or a test playing one) does to report a sandbox paused or a checkpoint done. Merge patch,
 * so only the fields given change, and served by kube-apiserver and the embedded server alike.
 */
import type { KubeClient, ResourceType } from '../../lib/index.js';
import { objectPath } from '../../lib/api/paths.js';

/** Merge-patches `status` into the object's status; resolves to the updated object. */
export function patchStatus<T>(client: KubeClient, resource: ResourceType, namespace: string, name: string, status: object): Promise<T> {
  return client.request<T>({
    verb: 'patch',
    method: 'PATCH',
    path: `${objectPath(resource, namespace, name)}/status`,
    body: { status },
    contentType: 'application/merge-patch+json',
  });
}

/** Replaces the object's status (PUT /status); `obj.metadata.resourceVersion`, when set, must be current. */
export function updateStatus<T extends object>(client: KubeClient, resource: ResourceType, namespace: string, name: string, obj: T): Promise<T> {
  return client.request<T>({ verb: 'update', method: 'PUT', path: `${objectPath(resource, namespace, name)}/status`, body: obj });
}
