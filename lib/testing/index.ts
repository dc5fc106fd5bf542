/**
 * `refwatch/testing`: what tests of code built on refwatch need, and what refwatch's own tests
 * use: a controllable clock, an in-memory API state with an ObjectSource over it, and an
 * in-memory container runtime for the node watchdogs.
 */
export * from './fake-clock.js';
export * from './memory-source.js';
export * from './memory-runtime.js';
export * from './object-storage.js';
export * from './selectors.js';
export * from './api-server/index.js';
