// The e2e suite: real kube-apiserver and etcd (see e2e/harness/cluster.ts). Run it with
// `npm run test:e2e`, which builds the binaries first and sets REFWATCH_KUBE_BIN.
import base from './jest.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.e2e.spec.ts'],
  testTimeout: 180_000,
};
