// ImageWatchdog on an in-memory runtime and FakeClock: miren's watchdogtest/image_test.go
// (§3.5 ImageWatchdog), the later keep rules (orphan grace, app-version references), and the two
// triggers: disk pressure from statfs of a real path, checked at start and hourly, and the weekly
// schedule. Times are wall-clock epoch ms, as image creation times are.
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArtifactId } from '../../lib/node/artifact-catalog.js';
import { ImageWatchdog, type CollectionReport, type FilesystemStats, type ImageWatchdogOptions } from '../../lib/node/image-watchdog.js';
import { FakeClock, settle } from '../../lib/testing/fake-clock.js';
import { MemoryRuntime } from '../../lib/testing/memory-runtime.js';
import { expectAwaitUsingStopsLoop } from '../util/dispose-contract.js';
import { LEVEL, captureBunyan } from '../util/log-capture.js';
import { MemoryCatalog, MemoryOwners } from './fixtures.js';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const PAUSE = 'registry.k8s.io/pause:3.9';
const img = (tag: string) => `cluster.local:5000/myapp:${tag}`;

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function rig(opts: Partial<ImageWatchdogOptions> = {}) {
  const dataPath = await mkdtemp(join(tmpdir(), 'refwatch-images-'));
  dirs.push(dataPath);
  const clock = new FakeClock(Date.now());
  const runtime = new MemoryRuntime({ clock });
  const catalog = new MemoryCatalog();
  const desired = new MemoryOwners();
  const reports: CollectionReport[] = [];
  const watchdog = new ImageWatchdog({ runtime, desired, catalog, dataPath, clock, jitter: 0, onCollect: (r) => reports.push(r), ...opts });
  const old = clock.now() - 2 * DAY;
  return { dataPath, clock, runtime, catalog, desired, reports, watchdog, old };
}

describe('ImageWatchdog image GC (watchdogtest/image_test.go)', () => {
  it('deletes the image of an archived artifact', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-archived'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-archived', status: 'archived' }];
    const result = await r.watchdog.runGC();
    expect(result).toEqual({ deleted: [img('a-archived')], failed: new Map(), total: 1, retained: 0 });
    expect(r.runtime.imageNames()).toEqual([]);
  });

  it('keeps the image of an active artifact', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-active'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-active', status: 'active' }];
    expect(await r.watchdog.runGC()).toMatchObject({ deleted: [], retained: 1, total: 1 });
  });

  it('keeps images it does not manage (the pause image)', async () => {
    const r = await rig();
    r.runtime.addImage({ name: PAUSE, createdAt: r.old });
    r.runtime.addImage({ name: 'docker.io/library/alpine:latest', createdAt: r.old });
    expect(await r.watchdog.runGC()).toMatchObject({ deleted: [], retained: 2 });
  });

  it('keeps the image of a legacy artifact without a status', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-legacy'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-legacy', status: '' }];
    expect((await r.watchdog.runGC()).deleted).toEqual([]);
  });

  it('keeps an image a live sandbox uses even when its artifact is archived', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-used'), createdAt: r.old });
    r.runtime.addImage({ name: img('a-dead-owner'), createdAt: r.old });
    r.catalog.artifactList = [
      { id: 'artifact/a-used', status: 'archived' },
      { id: 'artifact/a-dead-owner', status: 'archived' },
    ];
    r.desired.owners = [
      { id: 'sb-1', status: 'NOT_READY', updatedAt: 0, containers: [], images: [img('a-used')] },
      { id: 'sb-2', status: 'DEAD', updatedAt: 0, containers: [], images: [img('a-dead-owner')] },
    ];
    expect((await r.watchdog.runGC()).deleted).toEqual([img('a-dead-owner')]);
  });

  it.each([
    ['cluster.local:5000/myapp:a-abc123', 'artifact/a-abc123'],
    ['docker.io/library/alpine:latest', undefined],
    ['cluster.local:5000/myapp', undefined],
    ['cluster.local:5000/myapp:', undefined],
    ['invalid', undefined],
  ])('maps image %j to artifact %j (ParseArtifactID)', (name, id) => {
    expect(parseArtifactId(name)).toBe(id);
  });

  it('deletes a managed image without an artifact once it is older than the orphan grace, and keeps a younger one', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-orphan-old'), createdAt: r.clock.now() - DAY });
    r.runtime.addImage({ name: img('a-orphan-new'), createdAt: r.clock.now() - DAY + 1 });
    expect(await r.watchdog.runGC()).toMatchObject({ deleted: [img('a-orphan-old')], retained: 1 });
  });

  it('honours a configured orphan grace, and takes zero as the 24 hour default', async () => {
    const short = await rig({ orphanGracePeriod: HOUR });
    short.runtime.addImage({ name: img('a-1'), createdAt: short.clock.now() - HOUR });
    expect((await short.watchdog.runGC()).deleted).toEqual([img('a-1')]);
    const zero = await rig({ orphanGracePeriod: 0 });
    zero.runtime.addImage({ name: img('a-1'), createdAt: zero.clock.now() - HOUR });
    expect((await zero.watchdog.runGC()).deleted).toEqual([]);
  });

  it("keeps an image an app version still refers to, by name or by artifact, whatever the artifact's status", async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-by-image'), createdAt: r.old });
    r.runtime.addImage({ name: img('a-by-artifact'), createdAt: r.old });
    r.runtime.addImage({ name: img('a-no-artifact'), createdAt: r.old });
    r.catalog.artifactList = [
      { id: 'artifact/a-by-image', status: 'archived' },
      { id: 'artifact/a-by-artifact', status: 'archived' },
    ];
    r.catalog.versionList = [{ image: img('a-by-image') }, { artifact: 'artifact/a-by-artifact' }, { artifact: 'artifact/a-no-artifact' }];
    expect(await r.watchdog.runGC()).toMatchObject({ deleted: [], retained: 3 });
  });

  it('records a failed removal and goes on with the other images', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.runtime.addImage({ name: img('a-2'), createdAt: r.old });
    r.catalog.artifactList = [
      { id: 'artifact/a-1', status: 'archived' },
      { id: 'artifact/a-2', status: 'archived' },
    ];
    r.runtime.fail('removeImage', () => new Error('image is in use by a lease'), img('a-1'));
    const result = await r.watchdog.runGC();
    expect(result.deleted).toEqual([img('a-2')]);
    expect(result.failed.get(img('a-1'))?.message).toBe('image is in use by a lease');
  });

  it('deletes nothing when the images, the owners or the catalog cannot be listed', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'archived' }];
    r.desired.list = async () => {
      throw new Error('index not synced');
    };
    await expect(r.watchdog.runGC()).rejects.toThrow('index not synced');
    expect(r.runtime.imageNames()).toEqual([img('a-1')]);
  });
});

describe('ImageWatchdog triggers', () => {
  async function withBlob(dataPath: string, clock: FakeClock) {
    const blobs = join(dataPath, 'registry', 'blobs');
    await mkdir(blobs, { recursive: true });
    await writeFile(join(blobs, 'sha256:orphan'), 'x');
    const t = (clock.now() - 2 * HOUR) / 1000;
    await utimes(join(blobs, 'sha256:orphan'), t, t);
  }

  it('measures used space as (blocks − available) / blocks', async () => {
    const r = await rig({ statfs: async () => ({ blocks: 1_000, bavail: 150, bsize: 4096 }) });
    expect(await r.watchdog.diskUsagePercent()).toBe(85);
    const real = await rig();
    const percent = await real.watchdog.diskUsagePercent();
    expect(percent).toBeGreaterThan(0);
    expect(percent).toBeLessThanOrEqual(100);
  });

  it('collects at start when the real data path is at or above the threshold, then runs the blob GC too', async () => {
    const r = await rig({ diskPressureThreshold: 0 });
    await withBlob(r.dataPath, r.clock);
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'archived' }];
    r.watchdog.start();
    await until(() => r.reports.length === 1);
    expect(r.reports[0].trigger).toBe('disk_pressure');
    expect(r.reports[0].images).toMatchObject({ deleted: [img('a-1')] });
    expect(r.reports[0].blobs).toMatchObject({ deleted: ['sha256:orphan'], total: 1 });
    await r.watchdog.stop();
  });

  it('does not collect at start below the threshold (99 %: upstream start/stop test), and stops cleanly', async () => {
    const r = await rig({ statfs: async () => ({ blocks: 100, bavail: 50, bsize: 4096 }), diskPressureThreshold: 99 });
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'archived' }];
    r.watchdog.start();
    await settle();
    expect(r.reports).toEqual([]);
    await r.watchdog.stop();
    await r.watchdog.stop();
    expect(r.clock.pendingTimers()).toBe(0);
    expect(r.runtime.imageNames()).toEqual([img('a-1')]);
  });

  it('checks the disk again every hour and collects once it crosses the threshold', async () => {
    let stats: FilesystemStats = { blocks: 100, bavail: 30, bsize: 4096 };
    const checks: number[] = [];
    const r = await rig({
      statfs: async () => {
        checks.push(r.clock.now());
        return stats;
      },
    });
    r.watchdog.start();
    await settle();
    await r.clock.advance(HOUR - 1);
    expect(checks).toHaveLength(1);
    stats = { blocks: 100, bavail: 20, bsize: 4096 };
    await r.clock.advance(1);
    await until(() => r.reports.length === 1);
    expect(checks).toHaveLength(2);
    expect(r.reports[0].trigger).toBe('disk_pressure');
    await r.watchdog.stop();
  });

  it('collects every week whatever the disk says', async () => {
    const r = await rig({ statfs: async () => ({ blocks: 100, bavail: 99, bsize: 4096 }) });
    r.watchdog.start();
    await settle();
    await r.clock.advance(168 * HOUR - 1);
    expect(r.reports).toEqual([]);
    await r.clock.advance(1);
    await until(() => r.reports.length === 1);
    expect(r.reports[0].trigger).toBe('scheduled');
    await r.watchdog.stop();
  });

  it('takes zero intervals as the defaults instead of panicking like upstream', async () => {
    const checks: number[] = [];
    const r = await rig({
      scheduledInterval: 0,
      pressureCheckInterval: 0,
      statfs: async () => {
        checks.push(r.clock.now());
        return { blocks: 100, bavail: 99, bsize: 1 };
      },
    });
    r.watchdog.start();
    await settle();
    await r.clock.advance(HOUR);
    expect(checks.map((t) => t - checks[0])).toEqual([0, HOUR]);
    await r.watchdog.stop();
  });

  it('runs the blob GC even when the image GC fails', async () => {
    const r = await rig();
    await withBlob(r.dataPath, r.clock);
    r.runtime.fail('listImages', () => new Error('containerd: unavailable'));
    const report = await r.watchdog.collect();
    expect(report.images).toBeInstanceOf(Error);
    expect((report.images as Error).message).toBe('containerd: unavailable');
    expect(report.blobs).toMatchObject({ deleted: ['sha256:orphan'] });
  });

  it('logs through a bunyan logger with the fields: a failed image GC at error, the blobs it removed at info', async () => {
    const { logger, lines } = captureBunyan();
    const r = await rig({ logger });
    await withBlob(r.dataPath, r.clock);
    r.runtime.fail('listImages', () => new Error('containerd: unavailable'));
    await r.watchdog.collect();
    const pick = (msg: string) => lines.filter((l) => l.msg === msg).map(({ level, trigger, error, deleted, failed }) => ({ level, trigger, error, deleted, failed }));
    expect(pick('image GC failed')).toEqual([{ level: LEVEL.error, trigger: 'manual', error: 'containerd: unavailable' }]);
    expect(pick('blob GC removed blobs')).toEqual([{ level: LEVEL.info, trigger: 'manual', deleted: 1, failed: 0 }]);
  });

  it('stops measuring the disk when its signal aborts, even when statfs hangs, and collects nothing', async () => {
    const r = await rig({ statfs: () => new Promise<FilesystemStats>(() => {}) });
    const leaving = new AbortController();
    const measuring = r.watchdog.diskUsagePercent(leaving.signal);
    const checking = r.watchdog.checkAndCollect(leaving.signal);
    leaving.abort();
    await expect(measuring).rejects.toMatchObject({ name: 'AbortError' });
    await expect(checking).rejects.toMatchObject({ name: 'AbortError' });
    expect(r.reports).toEqual([]);
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it('skips a check it cannot measure, with a warning, and goes on checking', async () => {
    const warnings: string[] = [];
    let calls = 0;
    const r = await rig({
      logger: { debug() {}, warn: (msg) => warnings.push(msg) },
      statfs: async (path) => {
        if (++calls === 1) throw Object.assign(new Error(`ENOENT: no such file or directory, statfs '${path}'`), { code: 'ENOENT' });
        return { blocks: 100, bavail: 0, bsize: 1 };
      },
    });
    r.watchdog.start();
    await settle();
    expect(warnings).toEqual(['image watchdog could not measure the disk']);
    await r.clock.advance(HOUR);
    await until(() => r.reports.length === 1);
    await r.watchdog.stop();
  });

  it('stop() aborts a collection in progress and waits for it, leaving no timer', async () => {
    const r = await rig({ statfs: async () => ({ blocks: 100, bavail: 0, bsize: 1 }) });
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'archived' }];
    r.runtime.during('removeImage', () => new Promise<void>(() => {}));
    r.watchdog.start();
    await until(() => r.runtime.calls.some((c) => c.op === 'removeImage'));
    await r.watchdog.stop();
    expect(r.reports).toHaveLength(1);
    expect((r.reports[0].images as { failed: Map<string, Error> }).failed.has(img('a-1'))).toBe(true);
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it('bounds an image GC to 5 minutes: a hung removal is reported as failed', async () => {
    const r = await rig();
    r.runtime.addImage({ name: img('a-1'), createdAt: r.old });
    r.catalog.artifactList = [{ id: 'artifact/a-1', status: 'archived' }];
    r.runtime.during('removeImage', () => new Promise<void>(() => {}));
    const running = r.watchdog.runGC();
    await r.clock.advance(5 * 60_000);
    const result = await running;
    expect(result.failed.get(img('a-1'))?.message).toBe('image GC exceeded its 300000 ms deadline');
    expect(r.clock.pendingTimers()).toBe(0);
  });

  it('stops both triggers at the end of an `await using` block, also when the block throws', async () => {
    await expectAwaitUsingStopsLoop(
      async () => {
        let checks = 0;
        const r = await rig({
          statfs: async () => {
            checks++;
            return { blocks: 100, bavail: 99, bsize: 1 };
          },
        });
        return { loop: r.watchdog, clock: r.clock, passes: () => checks + r.reports.length };
      },
      async (watchdog) => {
        watchdog.start();
        await settle();
      },
      200 * HOUR,
    );
  });
});

/** Waits for real I/O (statfs, the blob directory) to finish, in 1 ms steps. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2_000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 1));
  expect(done()).toBe(true);
}
