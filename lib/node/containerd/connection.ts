/**
 * One gRPC connection to containerd, over its unix socket, with the services ContainerdRuntime
 * calls. It exists to keep the transport rules in one place: every call carries the namespace
 * header containerd scopes everything by, has a deadline on the injected clock and an optional
 * AbortSignal, maps gRPC failures to errors with their status code, and is cancelled when the
 * connection closes, so close() leaves no call and no channel behind.
 *
 * The services come from containerd 1.6's own .proto files (./proto, loaded at run time with
 * @grpc/proto-loader), so the wire format is containerd's, not a hand-written imitation.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { deadline } from '../../util/abort.js';
import type { Clock } from '../../util/clock.js';

const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url));
const API = 'github.com/containerd/containerd/api';
const SERVICES = {
  containers: { file: `${API}/services/containers/v1/containers.proto`, name: 'containerd.services.containers.v1.Containers' },
  tasks: { file: `${API}/services/tasks/v1/tasks.proto`, name: 'containerd.services.tasks.v1.Tasks' },
  namespaces: { file: `${API}/services/namespaces/v1/namespace.proto`, name: 'containerd.services.namespaces.v1.Namespaces' },
  images: { file: `${API}/services/images/v1/images.proto`, name: 'containerd.services.images.v1.Images' },
  snapshots: { file: `${API}/services/snapshots/v1/snapshots.proto`, name: 'containerd.services.snapshots.v1.Snapshots' },
  version: { file: `${API}/services/version/v1/version.proto`, name: 'containerd.services.version.v1.Version' },
} as const;

/** The containerd services a connection calls. */
export type ServiceName = keyof typeof SERVICES;

/** The header containerd reads the namespace of every call from. */
const NAMESPACE_HEADER = 'containerd-namespace';
/**
 * Largest response accepted: 16 MiB, the containerd Go client's default. A container list
 * carries each container's OCI spec (several KiB each), which passes gRPC's 4 MiB default on a
 * busy node.
 */
const MAX_RECEIVE_MESSAGE_BYTES = 16 << 20;

type ServiceConstructor = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ClientOptions) => grpc.Client;
let loaded: Record<ServiceName, ServiceConstructor> | undefined;

/** Loads the protos once per process; later connections reuse the service definitions. */
function services(): Record<ServiceName, ServiceConstructor> {
  if (loaded) return loaded;
  const definition = protoLoader.loadSync(
    Object.values(SERVICES).map((s) => s.file),
    // Field names as containerd spells them; 64-bit numbers and enums as strings (timestamps'
    // seconds are int64); defaults filled in so an absent field reads as its zero value.
    { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, oneofs: true },
  );
  const root = grpc.loadPackageDefinition(definition);
  const lookup = (dotted: string) => dotted.split('.').reduce<any>((node, part) => node?.[part], root) as ServiceConstructor;
  loaded = Object.fromEntries(Object.entries(SERVICES).map(([key, s]) => [key, lookup(s.name)])) as Record<ServiceName, ServiceConstructor>;
  return loaded;
}

/** A gRPC call to containerd failed; `code` is the gRPC status (grpc.status.NOT_FOUND, …). */
export class ContainerdError extends Error {
  /** The gRPC status code, e.g. grpc.status.NOT_FOUND. */
  readonly code: number;
  /**
   * @param method the `service.Method` called.
   * @param code the gRPC status.
   * @param details the server's message, if any.
   */
  constructor(method: string, code: number, details: string) {
    super(`containerd ${method}: ${details || grpc.status[code] || `status ${code}`}`);
    this.name = 'ContainerdError';
    this.code = code;
  }
}

/** Whether `err` is a ContainerdError with status NOT_FOUND. */
export function isGrpcNotFound(err: unknown): boolean {
  return err instanceof ContainerdError && err.code === grpc.status.NOT_FOUND;
}

/** Options of one call. */
export interface CallOptions {
  /** Cancels the call; it then rejects with CANCELLED. */
  signal?: AbortSignal;
  /** Overrides the connection's per-call timeout, in ms. */
  timeout?: number;
}

/** Where the connection goes and how long its calls may take. */
export interface ConnectionOptions {
  /** Path of containerd's gRPC socket. */
  address: string;
  /** The containerd namespace sent with every call. */
  namespace: string;
  /** Drives the call deadlines. */
  clock: Clock;
  /** ms a call may take before it is cancelled. */
  callTimeout: number;
}

/**
 * One gRPC channel to containerd's socket with its service clients: every call carries the namespace,
 * a deadline on the clock and an optional signal, and close() cancels what is in flight.
 */
export class ContainerdConnection {
  /** The containerd namespace of every call. */
  readonly namespace: string;
  private readonly channel: grpc.Channel;
  private readonly clients: Record<ServiceName, grpc.Client>;
  private readonly clock: Clock;
  private readonly callTimeout: number;
  private readonly metadata: grpc.Metadata;
  private readonly active = new Set<grpc.ClientUnaryCall>();
  private closed = false;

  /** Opens no socket yet: gRPC connects on the first call. */
  constructor(opts: ConnectionOptions) {
    this.namespace = opts.namespace;
    this.clock = opts.clock;
    this.callTimeout = opts.callTimeout;
    this.metadata = new grpc.Metadata();
    this.metadata.set(NAMESPACE_HEADER, opts.namespace);
    const target = `unix://${opts.address}`;
    const options: grpc.ChannelOptions = { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES };
    const credentials = grpc.credentials.createInsecure();
    // One channel (one socket) shared by every service client.
    this.channel = new grpc.Channel(target, credentials, options);
    const ctors = services();
    this.clients = Object.fromEntries(
      (Object.keys(ctors) as ServiceName[]).map((key) => [key, new ctors[key](target, credentials, { ...options, channelOverride: this.channel })]),
    ) as Record<ServiceName, grpc.Client>;
  }

  /** The channel's connectivity state, for leak checks (SHUTDOWN after close()). */
  state(): grpc.connectivityState {
    return this.channel.getConnectivityState(false);
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.active.size;
  }

  /**
   * One unary call. Rejects with ContainerdError for a gRPC failure (a timeout is
   * DEADLINE_EXCEEDED, an abort CANCELLED, both with the reason in the message).
   */
  call<Res>(service: ServiceName, method: string, request: object, opts: CallOptions = {}): Promise<Res> {
    const label = `${service}.${method}`;
    if (this.closed) return Promise.reject(new ContainerdError(label, grpc.status.UNAVAILABLE, 'connection closed'));
    if (opts.signal?.aborted) return Promise.reject(new ContainerdError(label, grpc.status.CANCELLED, 'aborted before the call'));
    const fn = (this.clients[service] as unknown as Record<string, Function>)[method];
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`containerd service ${service} has no method ${method}`));
    return new Promise<Res>((resolve, reject) => {
      let why: { code: number; details: string } | undefined;
      const call: grpc.ClientUnaryCall = fn.call(this.clients[service], request, this.metadata, {}, (err: grpc.ServiceError | null, res: Res) => {
        this.active.delete(call);
        bounded.end();
        if (!err) return resolve(res);
        const code = why?.code ?? err.code ?? grpc.status.UNKNOWN;
        reject(new ContainerdError(label, code, why?.details ?? err.details ?? err.message));
      });
      this.active.add(call);
      const cancel = (code: number, details: string) => {
        why ??= { code, details };
        call.cancel();
      };
      const timeout = opts.timeout ?? this.callTimeout;
      const bounded = deadline(this.clock, timeout, opts.signal, label);
      bounded.signal.addEventListener('abort', () => {
        if (bounded.reason === 'timeout') cancel(grpc.status.DEADLINE_EXCEEDED, `no answer within ${timeout} ms`);
        else cancel(grpc.status.CANCELLED, 'aborted');
      });
    });
  }

  /** Cancels the calls in flight and closes the channel. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const call of [...this.active]) call.cancel();
    for (const client of Object.values(this.clients)) client.close();
    this.channel.close();
  }
}
