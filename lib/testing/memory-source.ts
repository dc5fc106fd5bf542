/**
 * MemorySource is an ObjectSource over an in-memory ObjectStorage, for unit tests. Like
 * client-go's fake clientset it records every call as an action (verb, namespace, name,
 * options), so a test can count lists and watches and read their selectors and
 * resourceVersions; reactors answer, fail or block chosen calls; and every open watch is a
 * handle the test can push events into, end normally or break with an error.
 */
import type { KubeObject, ObjectList } from '../api/object.js';
import type { ResourceType } from '../api/resource.js';
import type { GetOptions, ListOptions, ObjectSource, WatchEvent, WatchOptions } from '../api/source.js';
import { ObjectStorage } from './object-storage.js';

/** The calls a MemorySource records. */
export type SourceVerb = 'get' | 'list' | 'watch';

/** One recorded call, as client-go's fake clientset records an action. */
export interface SourceAction {
  /** Which call it was. */
  verb: SourceVerb;
  /** The namespace it was made for ("" for all, or a cluster-scoped resource). */
  namespace: string;
  /** Set for get. */
  name?: string;
  /** The options as passed, without the signal. */
  options: Omit<WatchOptions, 'signal'>;
}

/** Answer a call (return a value), fail it (throw), or fall through to storage (return undefined). May be async to block. */
export type GetReactor<T> = (namespace: string, name: string, opts: GetOptions) => T | undefined | Promise<T | undefined>;
/** Answer a list (return a page), fail it (throw), or fall through to storage (return undefined). May be async to block. */
export type ListReactor<T> = (namespace: string, opts: ListOptions) => ObjectList<T> | undefined | Promise<ObjectList<T> | undefined>;
/** Throw to make the watch fail to establish; return true to take over the stream (push events yourself). */
export type WatchReactor<T> = (watch: MemoryWatch<T>) => boolean | void;

/** How a MemorySource behaves beyond its storage. */
export interface MemorySourceOptions {
  /**
   * Serve WatchList (sendInitialEvents) watches, so reflectors over this source try it. Default
   * false: like client-go's fake clientset, which reports IsWatchListSemanticsUnSupported, the
   * fake is listed and watched, so unit tests see the classic list+watch requests.
   */
  watchList?: boolean;
}

/** An ObjectSource over an in-memory ObjectStorage that records its calls and lets reactors take them over; see the file header. */
export class MemorySource<T extends KubeObject = KubeObject> implements ObjectSource<T> {
  /** Every call so far, oldest first. */
  readonly actions: SourceAction[] = [];
  /** False unless constructed with `{ watchList: true }`; see MemorySourceOptions. */
  readonly supportsWatchList: boolean;
  private readonly getReactors: GetReactor<T>[] = [];
  private readonly listReactors: ListReactor<T>[] = [];
  private readonly watchReactors: WatchReactor<T>[] = [];
  private readonly open = new Set<MemoryWatch<T>>();

  /**
   * @param resource the resource this source serves.
   * @param storage the state it serves; default a new ObjectStorage.
   */
  constructor(
    /** The resource this source serves. */
    readonly resource: ResourceType,
    /** Shared between sources of different resources to get one resourceVersion sequence. */
    readonly storage: ObjectStorage = new ObjectStorage(),
    options: MemorySourceOptions = {},
  ) {
    this.supportsWatchList = options.watchList === true;
  }

  // --- ObjectSource -------------------------------------------------------------------

  /** As ObjectSource.get: recorded, then the newest get reactor that answers, else storage. */
  async get(namespace: string, name: string, opts: GetOptions = {}): Promise<T> {
    this.record('get', namespace, opts, name);
    for (const reactor of this.getReactors) {
      const answer = await reactor(namespace, name, opts);
      if (answer !== undefined) return answer;
    }
    return this.storage.get(this.resource, namespace, name) as T;
  }

  /** As ObjectSource.list: recorded, then the newest list reactor that answers, else storage. */
  async list(namespace: string, opts: ListOptions = {}): Promise<ObjectList<T>> {
    this.record('list', namespace, opts);
    for (const reactor of this.listReactors) {
      const answer = await reactor(namespace, opts);
      if (answer !== undefined) return answer;
    }
    return this.storage.list(this.resource, namespace, opts) as ObjectList<T>;
  }

  /** As ObjectSource.watch: recorded when iterated; a MemoryWatch fed from storage unless a watch reactor takes it over. */
  watch(namespace: string, opts: WatchOptions = {}): AsyncIterable<WatchEvent<T>> {
    this.record('watch', namespace, opts);
    const signal = opts.signal;
    const onAbort = () => handle.end();
    const handle = new MemoryWatch<T>(namespace, strip(opts), (w) => {
      this.open.delete(w);
      signal?.removeEventListener('abort', onAbort);
    });
    this.open.add(handle);
    if (signal?.aborted) handle.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const takenOver = this.watchReactors.some((reactor) => reactor(handle) === true);
      if (!takenOver) handle.attach(this.storage.watch(this.resource, namespace, opts, (event) => handle.push(event as WatchEvent<T>)));
    } catch (err) {
      handle.fail(err);
    }
    return handle;
  }

  // --- reactors --------------------------------------------------------------------------

  /** Reactors run newest first, like client-go's PrependReactor. */
  onGet(reactor: GetReactor<T>): this {
    this.getReactors.unshift(reactor);
    return this;
  }

  /** Adds a list reactor, consulted before the older ones. */
  onList(reactor: ListReactor<T>): this {
    this.listReactors.unshift(reactor);
    return this;
  }

  /** Adds a watch reactor, consulted before the older ones. */
  onWatch(reactor: WatchReactor<T>): this {
    this.watchReactors.unshift(reactor);
    return this;
  }

  /** Removes every reactor: calls go to storage again. */
  clearReactors(): void {
    this.getReactors.length = this.listReactors.length = this.watchReactors.length = 0;
  }

  // --- server-side changes -------------------------------------------------------------------

  /** Creates the object in storage, as an API create would; open watches see ADDED. */
  create(obj: T): T {
    return this.storage.create(this.resource, obj) as T;
  }

  /** Updates the object in storage (409 on a stale resourceVersion); open watches see MODIFIED. */
  update(obj: T): T {
    return this.storage.update(this.resource, obj) as T;
  }

  /** Creates or replaces, ignoring resourceVersion: the test's way to say "the object is now this". */
  put(obj: T): T {
    const meta = obj.metadata ?? {};
    try {
      this.storage.get(this.resource, meta.namespace ?? '', meta.name ?? '');
    } catch {
      return this.create(obj);
    }
    return this.update({ ...obj, metadata: { ...meta, resourceVersion: undefined } });
  }

  /** Deletes the object from storage; open watches see DELETED. */
  remove(namespace: string, name: string): T {
    return this.storage.delete(this.resource, namespace, name) as T;
  }

  /** Sends a BOOKMARK with the current resourceVersion on every open watch that asked for them. */
  bookmark(): void {
    for (const w of this.open) if (w.options.allowWatchBookmarks) w.push({ type: 'BOOKMARK', object: this.storage.bookmarkObject(this.resource) });
  }

  // --- inspection ----------------------------------------------------------------------

  /** Watches not yet ended by either side. */
  openWatches(): MemoryWatch<T>[] {
    return [...this.open];
  }

  /** How many watches are open: 0 once everything that watched has stopped. */
  get openWatchCount(): number {
    return this.open.size;
  }

  /** How many calls of this verb were recorded. */
  count(verb: SourceVerb): number {
    return this.actions.filter((a) => a.verb === verb).length;
  }

  /** Forgets the recorded calls, e.g. after a test's setup. */
  clearActions(): void {
    this.actions.length = 0;
  }

  private record(verb: SourceVerb, namespace: string, opts: ListOptions | GetOptions, name?: string): void {
    const action: SourceAction = { verb, namespace, options: strip(opts) };
    if (name !== undefined) action.name = name;
    this.actions.push(action);
  }
}

function strip<O extends { signal?: AbortSignal }>(opts: O): Omit<O, 'signal'> {
  const { signal: _signal, ...rest } = opts;
  return rest;
}

type Pending<T> = { resolve: (r: IteratorResult<WatchEvent<T>>) => void; reject: (e: unknown) => void };

/**
 * One open watch of a MemorySource: an async iterable the reflector consumes, and the test's
 * handle on it.
 */
export class MemoryWatch<T> implements AsyncIterable<WatchEvent<T>>, AsyncIterator<WatchEvent<T>> {
  private readonly queue: WatchEvent<T>[] = [];
  private pending: Pending<T> | undefined;
  private state: 'open' | 'ended' | 'failed' = 'open';
  private failure: unknown;
  private detach: (() => void) | undefined;

  /**
   * @param namespace the namespace watched.
   * @param options the options as passed, without the signal.
   * @param onClose called once when the watch closes.
   */
  constructor(
    /** The namespace watched. */
    readonly namespace: string,
    /** The options as passed, without the signal. */
    readonly options: Omit<WatchOptions, 'signal'>,
    private readonly onClose: (w: MemoryWatch<T>) => void,
  ) {}

  /** Whether either side ended the watch. */
  get closed(): boolean {
    return this.state !== 'open';
  }

  /** Delivers an event (anything: tests also push garbage). Ignored once the watch is closed. */
  push(event: WatchEvent<T>): void {
    if (this.state !== 'open') return;
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      p.resolve({ value: event, done: false });
    } else this.queue.push(event);
  }

  /** Ends the stream normally after the queued events, as a server timeout does. */
  end(): void {
    this.close('ended');
  }

  /** Breaks the stream: the consumer's next read rejects with `err`. */
  fail(err: unknown): void {
    this.failure = err;
    this.close('failed');
  }

  /** Registers what stops feeding this watch when it closes (at once if it already has). */
  attach(detach: () => void): void {
    if (this.state === 'open') this.detach = detach;
    else detach();
  }

  /** The watch is its own iterator. */
  [Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    return this;
  }

  /** The next event; waits while none is queued, rejects after `fail`. */
  next(): Promise<IteratorResult<WatchEvent<T>>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.state === 'failed') {
      this.state = 'ended';
      return Promise.reject(this.failure);
    }
    if (this.state === 'ended') return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  /** The consumer stopped reading: the watch closes. */
  return(): Promise<IteratorResult<WatchEvent<T>>> {
    this.queue.length = 0;
    this.close('ended');
    return Promise.resolve({ value: undefined, done: true });
  }

  private close(how: 'ended' | 'failed'): void {
    if (this.state !== 'open') return;
    this.state = how;
    this.detach?.();
    this.detach = undefined;
    this.onClose(this);
    const p = this.pending;
    this.pending = undefined;
    if (!p) return;
    if (how === 'failed') {
      this.state = 'ended';
      p.reject(this.failure);
    } else p.resolve({ value: undefined, done: true });
  }
}
