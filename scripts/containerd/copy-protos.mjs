// Build step: the containerd adapter loads containerd's .proto files at run time from the folder
// next to its compiled module, so the build copies lib/node/containerd/proto to dist/lib/... .
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../../lib/node/containerd/proto', import.meta.url));
const to = fileURLToPath(new URL('../../dist/lib/node/containerd/proto', import.meta.url));
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
