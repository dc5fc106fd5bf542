/**
 * A client-go exec credential plugin for specs: a Node script whose every run hands out the
 * next token (token-1, token-2...), already expired, as a rotating credential does, so
 * client-node runs it again whenever it is asked.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes the plugin into `dir`; returns the kubeconfig `exec` stanza that runs it. */
export function rotatingExecPlugin(dir: string): { apiVersion: string; command: string; args: string[]; interactiveMode: string } {
  const plugin = path.join(dir, 'plugin.cjs');
  writeFileSync(
    plugin,
    `const fs = require('fs');
const n = (fs.existsSync(process.argv[2]) ? Number(fs.readFileSync(process.argv[2], 'utf8')) : 0) + 1;
fs.writeFileSync(process.argv[2], String(n));
console.log(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
  status: { token: 'token-' + n, expirationTimestamp: new Date(Date.now() - 1000).toISOString() } }));`,
  );
  return { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [plugin, path.join(dir, 'count')], interactiveMode: 'Never' };
}
