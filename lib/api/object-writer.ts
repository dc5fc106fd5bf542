/**
 * ObjectWriter: the writing half of a cluster client (create, replace, merge-patch, delete) for
 * one resource type. refwatch itself only reads; tests, examples, benchmarks and the demo write
 * through this to drive a cluster. It is kept apart from KubeClient, which owns the transport,
 * so that the client file holds one concept: how a request is sent and answered.
 */
import type { KubeClient } from './kube-client.js';
import type { Status } from './errors.js';
import { collectionPath, objectPath } from './paths.js';
import { apiVersionOf, type ResourceType } from './resource.js';

/** Options of one write. */
export interface WriteOptions {
  /**
   * Ends the write: the call rejects with an AbortError (see `isAbortError`) and the request is
   * cancelled. A write whose request already reached the server may still have taken effect
   * there; one aborted before it was sent (waiting for credentials or a connection) has not.
   */
  signal?: AbortSignal;
}

/**
 * Create, replace, merge-patch and delete of one resource type, over a KubeClient's connections.
 * Each call gets the client's request timeout and its retries on 429. It rejects with
 * StatusError for an API failure (`isNotFound`, `isForbidden`...; its message quotes nothing of
 * what was sent) or when the timeout passes (504 Timeout), with TransportError when no answer
 * came, with AbortError when `opts.signal` ends it, and with an Error when the kubeconfig yields
 * no credentials. A namespace or name that is not a valid path segment (`..`, `a/b`) rejects
 * with InvalidNameError, and nothing is sent. No call throws: each is async, so a bad name fails
 * like every other failure, as KubeObjectSource's reads do.
 */
export class ObjectWriter<T> {
  /**
   * @param client the client whose connections, auth and request budget the writes use.
   * @param resource what is written; its apiVersion and kind are added to every body.
   */
  constructor(
    private readonly client: KubeClient,
    /** The resource type every call writes. */
    readonly resource: ResourceType,
  ) {}

  /**
   * POSTs `obj` into `namespace` (ignored for cluster-scoped resources) and resolves with what
   * the server stored: with its uid and resourceVersion. An existing name is a 409 AlreadyExists.
   */
  async create(namespace: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ verb: 'create', method: 'POST', path: collectionPath(this.resource, namespace), body: this.typed(obj), signal: opts.signal });
  }

  /**
   * PUTs `obj` as `namespace/name`: a whole replace, so fields left out are cleared. With a
   * resourceVersion set it must match the stored one (409 Conflict if not), which makes
   * read-modify-write safe against a concurrent writer.
   */
  async update(namespace: string, name: string, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({ verb: 'update', method: 'PUT', path: objectPath(this.resource, namespace, name), body: this.typed(obj), signal: opts.signal });
  }

  /**
   * Applies a JSON merge patch (RFC 7386) to `namespace/name` and resolves with the result:
   * fields in `patch` are set, fields set to `null` are removed, arrays are replaced whole.
   * A missing object is 404 NotFound.
   */
  async patch(namespace: string, name: string, patch: unknown, opts: WriteOptions = {}): Promise<T> {
    return this.client.request<T>({
      verb: 'patch',
      method: 'PATCH',
      path: objectPath(this.resource, namespace, name),
      body: patch,
      contentType: 'application/merge-patch+json',
      signal: opts.signal,
    });
  }

  /**
   * Deletes `namespace/name`; resolves with the server's answer (a Status, or for some
   * resources the object as it was being deleted). A missing object is 404 NotFound.
   */
  async delete(namespace: string, name: string, opts: WriteOptions = {}): Promise<Status> {
    return this.client.request<Status>({ verb: 'delete', method: 'DELETE', path: objectPath(this.resource, namespace, name), signal: opts.signal });
  }

  /** The server decodes custom resources by apiVersion and kind, so both are always sent. */
  private typed(obj: T): T {
    return { apiVersion: apiVersionOf(this.resource), kind: this.resource.kind, ...obj };
  }
}
