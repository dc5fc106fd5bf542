// Blob GC on real temporary directories with real modification times (utimes): miren's
// blob_gc_test.go, case by case (§3.5 RunBlobGC #1–10). Blob mtimes are 2 hours old unless a
// case says otherwise; the clock's now() is the wall time they are compared with.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBlobGC } from '../../lib/node/blob-gc.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import type { LogFields, Logger } from '../../lib/util/logger.js';
import { MemoryCatalog } from './fixtures.js';

const HOUR = 60 * 60_000;
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const manifest = (config: string, ...layers: string[]) => JSON.stringify({ schemaVersion: 2, config: { digest: config }, layers: layers.map((digest) => ({ digest })) });

async function rig(opts: { createDir?: boolean } = {}) {
  const data = await mkdtemp(join(tmpdir(), 'refwatch-blobs-'));
  dirs.push(data);
  const blobsDir = join(data, 'registry', 'blobs');
  if (opts.createDir !== false) await mkdir(blobsDir, { recursive: true });
  const clock = new FakeClock(Date.now());
  const catalog = new MemoryCatalog();
  const warnings: { msg: string; fields?: LogFields }[] = [];
  const logger: Logger = { debug() {}, warn: (msg, fields) => warnings.push({ msg, fields }) };
  const blob = async (digest: string, ageMs = 2 * HOUR) => {
    const path = join(blobsDir, digest);
    await writeFile(path, 'blob-content');
    const t = (clock.now() - ageMs) / 1000;
    await utimes(path, t, t);
  };
  const run = () => runBlobGC({ blobsDir, catalog, clock, logger });
  const left = async () => (await readdir(blobsDir)).sort();
  return { blobsDir, clock, catalog, warnings, blob, run, left };
}

describe('runBlobGC (blob_gc_test.go)', () => {
  it('deletes unreferenced blobs (#1)', async () => {
    const r = await rig();
    await r.blob('sha256:orphan1');
    await r.blob('sha256:orphan2');
    const result = await r.run();
    expect(result.deleted.sort()).toEqual(['sha256:orphan1', 'sha256:orphan2']);
    expect(result.retained).toBe(0);
    expect(result.total).toBe(2);
    expect(await r.left()).toEqual([]);
  });

  it('keeps the config and layers of an active artifact and deletes the orphan (#2)', async () => {
    const r = await rig();
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'active', manifest: manifest('sha256:config1', 'sha256:layer1', 'sha256:layer2') }];
    for (const d of ['sha256:config1', 'sha256:layer1', 'sha256:layer2', 'sha256:orphan']) await r.blob(d);
    const result = await r.run();
    expect(result.deleted).toEqual(['sha256:orphan']);
    expect(result.retained).toBe(3);
    expect(await r.left()).toEqual(['sha256:config1', 'sha256:layer1', 'sha256:layer2']);
  });

  it("keeps a version's static artifact, and deletes it once the version is gone (#3)", async () => {
    const r = await rig();
    r.catalog.versionList = [{ staticArtifact: 'sha256:static' }];
    await r.blob('sha256:static');
    await r.blob('sha256:orphan-static');
    let result = await r.run();
    expect(result.deleted).toEqual(['sha256:orphan-static']);
    expect(result.retained).toBe(1);
    r.catalog.versionList = [];
    result = await r.run();
    expect(result.deleted).toEqual(['sha256:static']);
  });

  it('keeps the blobs of a legacy artifact without a status (#4)', async () => {
    const r = await rig();
    r.catalog.artifactList = [{ id: 'artifact/legacy', status: '', manifest: manifest('sha256:legacyconfig', 'sha256:legacylayer') }];
    await r.blob('sha256:legacyconfig');
    await r.blob('sha256:legacylayer');
    const result = await r.run();
    expect(result.deleted).toEqual([]);
    expect(result.retained).toBe(2);
  });

  it('deletes blobs only an archived artifact references (#5)', async () => {
    const r = await rig();
    r.catalog.artifactList = [{ id: 'artifact/old', status: 'archived', manifest: manifest('sha256:archivedconfig', 'sha256:archivedlayer') }];
    await r.blob('sha256:archivedconfig');
    await r.blob('sha256:archivedlayer');
    expect((await r.run()).deleted.sort()).toEqual(['sha256:archivedconfig', 'sha256:archivedlayer']);
  });

  it("keeps a layer an active artifact shares with an archived one, and deletes the archived one's own config (#6)", async () => {
    const r = await rig();
    r.catalog.artifactList = [
      { id: 'artifact/live', status: 'active', manifest: manifest('sha256:activeconf', 'sha256:sharedlayer') },
      { id: 'artifact/old', status: 'archived', manifest: manifest('sha256:archconf', 'sha256:sharedlayer') },
    ];
    for (const d of ['sha256:activeconf', 'sha256:sharedlayer', 'sha256:archconf']) await r.blob(d);
    const result = await r.run();
    expect(result.deleted).toEqual(['sha256:archconf']);
    expect(await r.left()).toEqual(['sha256:activeconf', 'sha256:sharedlayer']);
  });

  it('handles an empty blobs directory (#7)', async () => {
    const r = await rig();
    expect(await r.run()).toEqual({ deleted: [], failed: new Map(), total: 0, retained: 0 });
  });

  it('handles a missing blobs directory without an error (#8)', async () => {
    const r = await rig({ createDir: false });
    expect(await r.run()).toEqual({ deleted: [], failed: new Map(), total: 0, retained: 0 });
  });

  it('skips a malformed manifest with a warning, so its blobs can be collected (#9)', async () => {
    const r = await rig();
    r.catalog.artifactList = [
      { id: 'artifact/broken', status: 'active', manifest: 'not-valid-json{{{' },
      { id: 'artifact/odd', status: 'active', manifest: '{"layers": "sha256:x"}' },
    ];
    await r.blob('sha256:someblob');
    const result = await r.run();
    expect(result.deleted).toEqual(['sha256:someblob']);
    expect(r.warnings.map((w) => [w.msg, w.fields?.artifact])).toEqual([
      ['blob GC: skipping an artifact whose manifest cannot be parsed', 'artifact/broken'],
      ['blob GC: skipping an artifact whose manifest cannot be parsed', 'artifact/odd'],
    ]);
  });

  it('keeps a blob modified 30 minutes ago even unreferenced, and deletes a 2 hour old one (#10)', async () => {
    const r = await rig();
    await r.blob('sha256:recent', 30 * 60_000);
    await r.blob('sha256:old');
    const result = await r.run();
    expect(result.deleted).toEqual(['sha256:old']);
    expect(result.retained).toBe(1);
    expect(await r.left()).toEqual(['sha256:recent']);
  });

  it('keeps a blob exactly at the age limit minus one millisecond, and takes it one millisecond later', async () => {
    const r = await rig();
    await r.blob('sha256:edge', HOUR);
    r.clock.step(-1);
    expect((await r.run()).deleted).toEqual([]);
    r.clock.step(1);
    expect((await r.run()).deleted).toEqual(['sha256:edge']);
  });

  it('keeps entries that are not regular files', async () => {
    const r = await rig();
    await mkdir(join(r.blobsDir, 'sha256:adir'));
    const t = (r.clock.now() - 2 * HOUR) / 1000;
    await utimes(join(r.blobsDir, 'sha256:adir'), t, t);
    const result = await r.run();
    expect(result).toMatchObject({ deleted: [], total: 1, retained: 1 });
  });

  it('removes nothing when the catalog cannot be read', async () => {
    const r = await rig();
    await r.blob('sha256:a');
    r.catalog.artifacts = async () => {
      throw new Error('entity server unavailable');
    };
    await expect(r.run()).rejects.toThrow('entity server unavailable');
    expect(await r.left()).toEqual(['sha256:a']);
  });
});
