/**
 * The embedded Kubernetes API server (`refwatch/testing`): real HTTP/1.1 and HTTP/2 over TLS
 * or plain text, ObjectStorage state, watch streams, fault injection and request accounting.
 */
export { ApiServer, type ApiServerOptions } from './server.js';
export { RequestLog, type RequestRecord, type Verb } from './accounting.js';
export { Faults, type FailureOptions, type InjectedCode, type WatchListMode } from './faults.js';
export { builtinResources } from './catalog.js';
export { generateClientCertificates, generateServingCertificates, type CertificateOptions, type ClientCertificates, type ServingCertificates } from './certificates.js';
export type { Kubeconfig } from './kubeconfig.js';
export { GARBAGE_LINE, MIN_REQUEST_TIMEOUT_SECONDS } from './served-watch.js';
export { MAX_BODY_BYTES } from './request-handler.js';
