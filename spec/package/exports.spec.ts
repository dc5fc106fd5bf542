// The public surface is a decision (issue 13, item 1): what `refwatch` and `refwatch/testing`
// export, values at run time and type-only names in the declarations, must equal the list
// checked in next to this spec, spec/package/public-api.json. A name that appears or disappears
// fails here until the list says so, which puts every change to the surface in a diff a reviewer
// reads. To accept a change, edit the JSON by hand, or rewrite it from the code with
//   UPDATE_PUBLIC_API=1 node --experimental-vm-modules node_modules/jest/bin/jest.js spec/package/exports.spec.ts
// and review the diff.
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LIST = join(root, 'spec/package/public-api.json');

/** Each entry point of package.json's `exports`, by the TypeScript file it is built from. */
const ENTRY_POINTS = {
  refwatch: { file: 'lib/index.ts', load: () => import('../../lib/index.js') },
  'refwatch/testing': { file: 'lib/testing/index.ts', load: () => import('../../lib/testing/index.js') },
} as const;
type EntryPoint = keyof typeof ENTRY_POINTS;

/** What one entry point exports: values (present at run time) and type-only names. */
interface Surface {
  values: string[];
  types: string[];
}

const HOW_TO_UPDATE =
  'If this change to the public surface is intended, update spec/package/public-api.json (by hand, or rewrite it with ' +
  'UPDATE_PUBLIC_API=1 node --experimental-vm-modules node_modules/jest/bin/jest.js spec/package/exports.spec.ts) and say why in the commit.';

/** Every name each entry point exports, as the compiler sees it. One program for all entry points: building it takes seconds. */
function declaredExports(): Record<EntryPoint, string[]> {
  const files = Object.values(ENTRY_POINTS).map((e) => join(root, e.file));
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(files, { ...parsed!.options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = {} as Record<EntryPoint, string[]>;
  for (const [name, entry] of Object.entries(ENTRY_POINTS) as Array<[EntryPoint, (typeof ENTRY_POINTS)[EntryPoint]]>) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(join(root, entry.file))!)!;
    out[name] = checker
      .getExportsOfModule(module)
      .map((s) => s.name)
      .sort();
  }
  return out;
}

async function actualSurfaces(): Promise<Record<EntryPoint, Surface>> {
  const declared = declaredExports();
  const out = {} as Record<EntryPoint, Surface>;
  for (const [name, entry] of Object.entries(ENTRY_POINTS) as Array<[EntryPoint, (typeof ENTRY_POINTS)[EntryPoint]]>) {
    const values = Object.keys(await entry.load()).sort();
    const runtime = new Set(values);
    out[name] = { values, types: declared[name].filter((n) => !runtime.has(n)) };
  }
  return out;
}

/** Names in `a` and not in `b`. */
function minus(a: string[], b: string[]): string[] {
  const other = new Set(b);
  return a.filter((n) => !other.has(n));
}

describe('the public surface (spec/package/public-api.json)', () => {
  let actual: Record<EntryPoint, Surface>;
  let listed: Record<EntryPoint, Surface>;

  it('is read from the entry points', async () => {
    actual = await actualSurfaces();
    if (process.env.UPDATE_PUBLIC_API) writeFileSync(LIST, JSON.stringify(actual, null, 2) + '\n');
    listed = JSON.parse(readFileSync(LIST, 'utf8')) as Record<EntryPoint, Surface>;
    expect(Object.keys(listed).sort()).toEqual(Object.keys(ENTRY_POINTS).sort());
  }, 120_000);

  it.each(Object.keys(ENTRY_POINTS) as EntryPoint[])('%s exports exactly the listed values and types', (entry) => {
    for (const kind of ['values', 'types'] as const) {
      const added = minus(actual[entry][kind], listed[entry][kind]);
      const removed = minus(listed[entry][kind], actual[entry][kind]);
      if (added.length || removed.length) {
        throw new Error(
          `${entry} ${kind} differ from the checked-in list.\n` +
            (added.length ? `  exported but not listed: ${added.join(', ')}\n` : '') +
            (removed.length ? `  listed but not exported: ${removed.join(', ')}\n` : '') +
            HOW_TO_UPDATE,
        );
      }
      // Sorted, so a hand edit lands where a reader looks for it.
      expect(listed[entry][kind]).toEqual([...listed[entry][kind]].sort());
    }
  });

  it('keeps the internals named in issue 13 behind the door', () => {
    const all = [...actual.refwatch.values, ...actual.refwatch.types];
    for (const internal of [
      'ConnectionPool',
      'describeTransportError',
      'ReconcilerLoop',
      'readObject',
      'buildEntry',
      'builtFrom',
      'PathTrie',
      'frameKey',
      'pathKey',
      'Deadline',
      'raceAbort',
    ]) {
      expect(all).not.toContain(internal);
    }
  });
});
