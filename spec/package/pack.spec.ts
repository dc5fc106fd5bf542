// What `npm pack` publishes: the compiled library with its types and source maps, the sources
// the maps point to, README, LICENSE and NOTICE; no specs, benchmarks, e2e suites, examples or
// scripts. The compiled code imports only what package.json declares, and never
// @kubernetes/client-node (a peer used for its types and the KubeConfig the user passes).
// `npm pack` runs prepack, which cleans dist/ and builds it, so this is what a release holds.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackedFile {
  path: string;
  size: number;
}
interface PackageJson {
  main: string;
  types: string;
  exports: Record<string, { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

let files: string[];
let pkg: PackageJson;

beforeAll(async () => {
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--no-audit', '--no-fund'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  const [result] = JSON.parse(stdout) as Array<{ files: PackedFile[] }>;
  files = result.files.map((f) => f.path).sort();
  pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as PackageJson;
}, 180_000);

/** The package name a bare specifier names: `rxjs/operators` → rxjs, `@scope/a/b` → @scope/a. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every module specifier a compiled file loads at run time: static imports, re-exports, import(), require(). */
function runtimeImports(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

describe('npm pack', () => {
  it('ships README, LICENSE, NOTICE and package.json', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'NOTICE', 'package.json']));
  });

  it('ships only the compiled library and its sources besides those', () => {
    const others = files.filter((f) => !['README.md', 'LICENSE', 'NOTICE', 'package.json'].includes(f));
    expect(others.filter((f) => !(f.startsWith('dist/lib/') || /^lib\/.+\.ts$/.test(f)))).toEqual([]);
  });

  it('ships no specs, benchmarks, e2e suites, examples, scripts or CI files', () => {
    const unwanted = /(^|\/)(spec|bench|e2e|examples|scripts|\.ci|\.scratch|node_modules|coverage)(\/|$)|\.spec\.|tsconfig|jest\.config/;
    expect(files.filter((f) => unwanted.test(f))).toEqual([]);
  });

  it('ships every file package.json points at', () => {
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.exports).flatMap((e) => [e.types, e.default])];
    expect(targets.length).toBeGreaterThan(2);
    for (const target of targets) expect(files).toContain(normalize(target));
  });

  it('ships types and a source map for every compiled module, and no output without a source', () => {
    const compiled = files.filter((f) => f.endsWith('.js'));
    expect(compiled.length).toBeGreaterThan(50);
    for (const js of compiled) {
      expect(files).toContain(js.replace(/\.js$/, '.d.ts'));
      expect(files).toContain(`${js}.map`);
      // A stale module from a renamed or deleted source would ship without this.
      expect(files).toContain(js.replace(/^dist\/lib\//, 'lib/').replace(/\.js$/, '.ts'));
    }
  });

  it('ships the sources the source maps point to', async () => {
    const maps = files.filter((f) => f.endsWith('.js.map'));
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[] };
      expect(sources.length).toBe(1);
      for (const source of sources) expect(files).toContain(normalize(join(dirname(map), source)));
    }
  });

  it('loads at run time only Node built-ins and the declared dependencies, never @kubernetes/client-node', async () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
    const builtins = new Set(builtinModules);
    const bare = new Map<string, string>();
    for (const js of files.filter((f) => f.endsWith('.js'))) {
      for (const specifier of runtimeImports(await readFile(join(root, js), 'utf8'))) {
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        bare.set(packageOf(specifier), js);
      }
    }
    expect([...bare.keys()].filter((name) => !declared.has(name))).toEqual([]);
    expect(bare.has('@kubernetes/client-node')).toBe(false);
    // The check reads real imports: rxjs (a peer) and lru-cache are loaded at run time.
    expect(bare.has('rxjs')).toBe(true);
    expect(bare.has('lru-cache')).toBe(true);
  });

  it('refers to @kubernetes/client-node only for types', async () => {
    const declarations = files.filter((f) => f.endsWith('.d.ts'));
    let typeUses = 0;
    for (const dts of declarations) {
      if (runtimeImports(await readFile(join(root, dts), 'utf8')).some((s) => packageOf(s) === '@kubernetes/client-node')) typeUses++;
    }
    // The declarations name KubeConfig and V1Pod/V1Secret..., which the user's own copy provides.
    expect(typeUses).toBeGreaterThan(0);
    expect(Object.keys(pkg.dependencies)).not.toContain('@kubernetes/client-node');
    expect(pkg.peerDependencies['@kubernetes/client-node']).toBe('^1.4.0 || ^2.0.1');
    expect(Object.keys(pkg.dependencies)).not.toContain('rxjs');
    expect(pkg.peerDependencies.rxjs).toMatch(/^\^7\.8/);
  });
});
