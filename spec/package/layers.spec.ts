// The import-boundary rule of eslint.config.js (run by `npm test` over lib/): imports point down
// the flow util → api → cache → manager → consumers, consumers do not import each other, and no
// production file imports lib/testing. Each case lints one line as if it stood in the named file.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint();

/** The messages ESLint reports for `code` placed at `filePath`. */
async function lint(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code + '\n', { filePath });
  return result.messages.map((m) => m.message);
}

describe('the layer boundaries (eslint.config.js)', () => {
  it.each([
    ['lib/util/clock.ts', "import { resources } from '../api/resource.js';", 'lib/util must not import lib/api'],
    ['lib/api/kube-client.ts', "import { Reflector } from '../cache/reflector.js';", 'lib/api must not import lib/cache'],
    ['lib/cache/reflector.ts', "import type { Store } from '../manager/interfaces.js';", 'lib/cache must not import lib/manager'],
    ['lib/manager/strategy.ts', "export * from '../profiles/entry.js';", 'lib/manager must not import lib/profiles'],
    ['lib/manager/strategy.ts', "export { WaitHooks } from '../wait/wait-hooks.js';", 'lib/manager must not import lib/wait'],
  ])('reports an import up the flow: %s → %s', async (file, code, expected) => {
    expect(await lint(file, code)).toEqual([expect.stringContaining(expected)]);
  });

  it.each([
    ['lib/profiles/reconciler.ts', "import { PeriodicReconciler } from '../node/index.js';", 'lib/profiles must not import lib/node'],
    ['lib/wait/connect.ts', "import type { ContainerProfile } from '../profiles/types.js';", 'lib/wait must not import lib/profiles'],
    ['lib/node/containerd/connection.ts', "import { WaitHooks } from '../../wait/wait-hooks.js';", 'lib/node must not import lib/wait'],
  ])('reports a consumer importing another consumer: %s → %s', async (file, code, expected) => {
    expect(await lint(file, code)).toEqual([expect.stringContaining(expected)]);
  });

  it.each(['util', 'api', 'cache', 'manager', 'profiles', 'wait', 'node'])('reports lib/%s importing lib/testing', async (layer) => {
    expect(await lint(`lib/${layer}/x.ts`, "import { FakeClock } from '../testing/fake-clock.js';")).toEqual([expect.stringContaining(`lib/${layer} must not import lib/testing`)]);
  });

  it('keeps lib/testing out of the public surface, which re-exports every production layer', async () => {
    expect(await lint('lib/index.ts', "export * from './testing/index.js';")).toEqual([expect.stringContaining('the public surface must not export lib/testing')]);
    expect(await lint('lib/index.ts', "export * from './node/index.js';\nexport * from './util/clock.js';")).toEqual([]);
  });

  it('reports an import from outside lib/, at any depth', async () => {
    expect(await lint('lib/api/x.ts', "import { median } from '../../bench/report.js';")).toEqual([expect.stringContaining('must not import from outside lib/')]);
    expect(await lint('lib/testing/api-server/x.ts', "import { h1 } from '../../../spec/testing/api-server/http-clients.js';")).toEqual([
      expect.stringContaining('must not import from outside lib/'),
    ]);
  });

  it('reports dynamic imports and require(), which the boundary rule could not see', async () => {
    expect(await lint('lib/manager/x.ts', "export const load = () => import('../testing/index.js');")).toEqual([expect.stringContaining('static imports only')]);
    expect(await lint('lib/manager/x.ts', "export const load = () => require('../testing/index.js');")).toEqual([expect.stringContaining('static imports only')]);
  });

  it('allows imports down the flow, within a layer, and from lib/testing into any production layer', async () => {
    expect(
      await lint('lib/profiles/reconciler.ts', "import { PeriodicReconciler } from '../util/periodic-reconciler.js';\nimport type { Store } from '../manager/interfaces.js';"),
    ).toEqual([]);
    expect(await lint('lib/node/containerd/connection.ts', "import { errorMessage } from '../../util/logger.js';\nimport type { ContainerRuntime } from '../runtime.js';")).toEqual(
      [],
    );
    expect(await lint('lib/cache/informer.ts', "import { Reflector } from './reflector.js';\nimport { LRUCache } from 'lru-cache';")).toEqual([]);
    expect(
      await lint(
        'lib/testing/api-server/x.ts',
        "import { ContainerProfileCache } from '../../profiles/container-profile-cache.js';\nimport { FakeClock } from '../fake-clock.js';",
      ),
    ).toEqual([]);
  });
});
