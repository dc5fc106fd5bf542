// refwatch from CommonJS: require() of the ES module package (Node >= 20.19), in a project where
// @kubernetes/client-node is not installed at all, which proves refwatch never loads it.
'use strict';
const assert = require('node:assert/strict');

assert.throws(() => require.resolve('@kubernetes/client-node'), { code: 'MODULE_NOT_FOUND' }, 'client-node must be absent here');
const { CacheBasedManager, WatchObjectStore, isNotFound, newNotFound, podSecretNames, resources } = require('refwatch');
const { ApiServer, MemorySource } = require('refwatch/testing');

async function main() {
  const server = await ApiServer.start();
  const source = new MemorySource(resources.secrets, server.storage);
  server.storage.create(resources.secrets, { metadata: { name: 'db' }, data: { mode: 'b25l' } }, 'shop');
  const store = new WatchObjectStore({ source });
  const manager = new CacheBasedManager(store, podSecretNames);
  const pod = { metadata: { namespace: 'shop', name: 'web', uid: 'uid-web' }, spec: { volumes: [{ name: 'v', secret: { secretName: 'db' } }] } };
  manager.registerPod(pod);
  assert.equal((await manager.getObject('shop', 'db')).data.mode, 'b25l');
  assert.equal(isNotFound(newNotFound('secrets', 'x')), true);
  manager.unregisterPod(pod);
  await store.close();
  await server.stop();
  console.log('cjs consumer: require() of refwatch and refwatch/testing works without @kubernetes/client-node');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
