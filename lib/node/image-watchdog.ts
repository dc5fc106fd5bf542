/**
 * ImageWatchdog collects container images and registry blobs nothing needs any more (miren's
 * ImageWatchdog with its later hardening). Two triggers: disk pressure (the data path's
 * filesystem at or above a threshold, checked at start and every hour) and a weekly schedule.
 * Each collection runs the image GC, then the blob GC, independently.
 *
 * An image is deleted only when every keep rule passes it by, in this order: it is in use by a
 * live owner; it is not managed (not under the managed registry); an app version still refers
 * to it or its artifact; its artifact is unknown but the image is younger than the orphan grace;
 * its artifact is active or has no status. What is left (archived artifacts, orphans past the
 * grace) is deleted.
 */
import { statfs as fsStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import { deadline, raceAbort } from '../util/abort.js';
import { realClock, type Clock } from '../util/clock.js';
import type { AsyncStoppable } from '../util/dispose.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { parseArtifactId, type ArtifactCatalog, type ArtifactStatus } from './artifact-catalog.js';
import { DEFAULT_BLOB_MIN_AGE, runBlobGC, type BlobGCResult } from './blob-gc.js';
import type { DesiredState } from './desired-state.js';
import { PeriodicReconciler, type PassReport } from '../util/periodic-reconciler.js';
import type { ContainerRuntime, RuntimeImage } from './runtime.js';
import { failureUnder, positiveOr, toError } from './values.js';

/** Upstream's weekly collection, whatever the disk says. */
export const DEFAULT_SCHEDULED_GC_INTERVAL = 168 * 60 * 60_000;
/** Upstream's hourly look at the disk. */
export const DEFAULT_PRESSURE_CHECK_INTERVAL = 60 * 60_000;
/** Used percentage of the data path's filesystem at which a collection runs at once. */
export const DEFAULT_DISK_PRESSURE_THRESHOLD = 80;
/**
 * A managed image whose artifact is unknown is kept this long after its creation: 24 hours,
 * upstream's, so that one torn read of the catalog cannot take an image a deploy is pulling.
 */
export const DEFAULT_ORPHAN_GRACE_PERIOD = 24 * 60 * 60_000;
/** Bound of one image GC, upstream's 5 minutes. */
export const DEFAULT_IMAGE_GC_TIMEOUT = 5 * 60_000;

/** Why a collection ran. */
export type GCTrigger = 'disk_pressure' | 'scheduled' | 'manual';

/** What one image GC did. */
export interface ImageGCResult {
  /** Image names removed. */
  deleted: string[];
  /** Image names whose removal failed, with why. */
  failed: Map<string, Error>;
  /** Images listed before the collection. */
  total: number;
  /** Images kept by a rule. */
  retained: number;
}

/** What one collection did; each half is its result or the error that stopped it. */
export interface CollectionReport {
  /** Why the collection ran. */
  trigger: GCTrigger;
  /** The image GC's result, or the error that stopped it (nothing was deleted then). */
  images: ImageGCResult | Error;
  /** The blob GC's result, or the error that stopped it. */
  blobs: BlobGCResult | Error;
}

/** The filesystem figures the pressure rule needs (a subset of fs.StatFs). */
export interface FilesystemStats {
  /** Total blocks of the filesystem. */
  blocks: number;
  /** Blocks available to unprivileged users. */
  bavail: number;
  /** Block size in bytes. */
  bsize: number;
}

/**
 * The image and blob GC's inputs and tuning; `runtime`, `desired`, `catalog` and `dataPath` are
 * required, every other option has upstream's default.
 */
export interface ImageWatchdogOptions {
  /** Where images are listed and removed. */
  runtime: ContainerRuntime;
  /** Owners whose status is not DEAD keep their `images`. */
  desired: DesiredState;
  /** Says which artifacts are archived and which versions still need an image or a blob. */
  catalog: ArtifactCatalog;
  /** The data directory: its filesystem is the one measured; blobs live in `<dataPath>/registry/blobs`. */
  dataPath: string;
  /**
   * ms between scheduled collections. Default 168 hours. Zero or negative means the default
   * (upstream panics on a zero interval; here an unset field is simply unset).
   */
  scheduledInterval?: number;
  /** ms between disk-pressure checks (the first runs at start()). Default 1 hour; zero or negative means the default. */
  pressureCheckInterval?: number;
  /** Used percentage at or above which a check collects. Default 80. */
  diskPressureThreshold?: number;
  /** ms a managed image without a known artifact is kept after its creation. Default 24 hours; zero or negative means the default. */
  orphanGracePeriod?: number;
  /** Blobs modified within this many ms are kept. Default 1 hour. */
  blobMinAge?: number;
  /** Maps an image name to its artifact id, undefined for images not managed. Default parseArtifactId (miren's registry). */
  parseArtifactId?: (imageName: string) => string | undefined;
  /** Reads the filesystem figures. Default fs.promises.statfs. */
  statfs?: (path: string) => Promise<FilesystemStats>;
  /** Drives both triggers and the GC bound. now() must be epoch ms (RealClock's is): it is compared with image and file times. */
  clock?: Clock;
  /**
   * Where the watchdog logs: at info what a collection removed, at warn disk pressure and each
   * removal that failed, at error a GC that failed as a whole. Any LoggerLike; default: none.
   */
  logger?: LoggerLike;
  /** Metrics hook: after every pressure check and every scheduled pass. */
  onPass?: (report: PassReport) => void;
  /** Metrics hook: after every collection, with both results. */
  onCollect?: (report: CollectionReport) => void;
  /** Jitter fraction of both intervals. Default 0.1. */
  jitter?: number;
}

/**
 * The image and blob GC (miren's ImageWatchdog): collects when the data path's filesystem is at or
 * above the threshold (checked at start and hourly) and weekly, deleting only images every keep rule
 * passes by, then unreferenced registry blobs. start() runs it, collect() runs one collection, stop()
 * or `await using` ends it.
 */
export class ImageWatchdog implements AsyncStoppable {
  private readonly runtime: ContainerRuntime;
  private readonly desired: DesiredState;
  private readonly catalog: ArtifactCatalog;
  private readonly dataPath: string;
  private readonly threshold: number;
  private readonly orphanGrace: number;
  private readonly blobMinAge: number;
  private readonly parseArtifactId: (imageName: string) => string | undefined;
  private readonly statfs: (path: string) => Promise<FilesystemStats>;
  private readonly clock: Clock;
  private readonly logger: NormalizedLogger;
  private readonly onCollect: ImageWatchdogOptions['onCollect'];
  private readonly pressureLoop: PeriodicReconciler;
  private readonly scheduledLoop: PeriodicReconciler;
  private readonly stopping = new AbortController();
  private collecting: Promise<CollectionReport> | undefined;

  /** Builds the watchdog; nothing runs until start() or a direct call. */
  constructor(opts: ImageWatchdogOptions) {
    this.runtime = opts.runtime;
    this.desired = opts.desired;
    this.catalog = opts.catalog;
    this.dataPath = opts.dataPath;
    this.threshold = opts.diskPressureThreshold ?? DEFAULT_DISK_PRESSURE_THRESHOLD;
    this.orphanGrace = positiveOr(opts.orphanGracePeriod, DEFAULT_ORPHAN_GRACE_PERIOD);
    this.blobMinAge = opts.blobMinAge ?? DEFAULT_BLOB_MIN_AGE;
    this.parseArtifactId = opts.parseArtifactId ?? parseArtifactId;
    this.statfs = opts.statfs ?? fsStatfs;
    this.clock = opts.clock ?? realClock;
    this.logger = toLogger(opts.logger);
    this.onCollect = opts.onCollect;
    const common = { clock: this.clock, logger: this.logger, onPass: opts.onPass, jitter: opts.jitter };
    this.pressureLoop = new PeriodicReconciler({
      ...common,
      name: 'image-watchdog-pressure',
      interval: positiveOr(opts.pressureCheckInterval, DEFAULT_PRESSURE_CHECK_INTERVAL),
      run: (signal) => this.checkAndCollect(signal).then(() => undefined),
    });
    this.scheduledLoop = new PeriodicReconciler({
      ...common,
      name: 'image-watchdog-scheduled',
      interval: positiveOr(opts.scheduledInterval, DEFAULT_SCHEDULED_GC_INTERVAL),
      runOnStart: false,
      run: (signal) => this.collect('scheduled', signal).then(() => undefined),
    });
  }

  /** Checks the disk now and every pressure interval, and collects every scheduled interval, until stop(). */
  start(): void {
    this.pressureLoop.start();
    this.scheduledLoop.start();
  }

  /** Stops both triggers, aborting a collection in progress, and waits for it. Idempotent. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([this.pressureLoop.stop(), this.scheduledLoop.stop()]);
    await this.collecting;
  }

  /** `await using` support: the same as stop(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * Used percentage of the data path's filesystem: (blocks − available) / blocks × 100. Rejects
   * with what statfs threw, or with an AbortError as soon as `signal` aborts (a statfs of a hung
   * mount cannot be cancelled; its answer is then ignored).
   */
  async diskUsagePercent(signal?: AbortSignal): Promise<number> {
    const stats = Promise.resolve().then(() => this.statfs(this.dataPath));
    const s = await (signal ? raceAbort(stats, signal) : stats);
    return s.blocks > 0 ? ((s.blocks - s.bavail) / s.blocks) * 100 : 0;
  }

  /**
   * The pressure trigger: measures the disk and collects when it is at or above the threshold.
   * Resolves with the collection's report, or undefined when there was no pressure or the
   * filesystem could not be measured (logged). Rejects with an AbortError when `signal` aborts
   * during the measurement; once collecting, an abort ends the collection (see collect()).
   */
  async checkAndCollect(signal?: AbortSignal): Promise<CollectionReport | undefined> {
    let percent: number;
    try {
      percent = await this.diskUsagePercent(signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      this.logger.warn('image watchdog could not measure the disk', { path: this.dataPath, error: errorMessage(err) });
      return undefined;
    }
    this.logger.debug('image watchdog disk check', { percent, threshold: this.threshold });
    if (percent < this.threshold) return undefined;
    this.logger.warn('disk pressure threshold exceeded, collecting images', { percent, threshold: this.threshold });
    return this.collect('disk_pressure', signal);
  }

  /**
   * One collection: image GC, then blob GC, each on its own (a failing image GC does not stop
   * the blob GC). A call while one runs joins it. Never rejects.
   */
  collect(trigger: GCTrigger = 'manual', signal?: AbortSignal): Promise<CollectionReport> {
    if (this.collecting) return this.collecting;
    const combined = signal ? AbortSignal.any([signal, this.stopping.signal]) : this.stopping.signal;
    this.collecting = (async (): Promise<CollectionReport> => {
      const images = await this.runGC(combined).catch(toError);
      const blobs = await this.runBlobGC(combined).catch(toError);
      const report: CollectionReport = { trigger, images, blobs };
      this.logReport(report);
      try {
        this.onCollect?.(report);
      } catch (err) {
        this.logger.error('image watchdog collect hook failed', { error: errorMessage(err) });
      }
      return report;
    })().finally(() => (this.collecting = undefined));
    return this.collecting;
  }

  /**
   * The image GC alone, bounded to 5 minutes. Rejects, deleting nothing, when the images, the
   * owners or the catalog cannot be listed; a failed deletion goes into `failed`.
   */
  async runGC(signal?: AbortSignal): Promise<ImageGCResult> {
    const bounded = deadline(this.clock, DEFAULT_IMAGE_GC_TIMEOUT, signal, 'image GC');
    try {
      return await this.imageGC(bounded.signal);
    } finally {
      bounded.end();
    }
  }

  /** The blob GC alone, over `<dataPath>/registry/blobs`. */
  runBlobGC(signal?: AbortSignal): Promise<BlobGCResult> {
    return runBlobGC({
      blobsDir: join(this.dataPath, 'registry', 'blobs'),
      catalog: this.catalog,
      clock: this.clock,
      logger: this.logger,
      minAge: this.blobMinAge,
      signal,
    });
  }

  private async imageGC(signal: AbortSignal): Promise<ImageGCResult> {
    const [images, owners, artifacts, versions] = await Promise.all([
      raceAbort(this.runtime.listImages({ signal }), signal),
      raceAbort(this.desired.list({ signal }), signal),
      raceAbort(this.catalog.artifacts({ signal }), signal),
      raceAbort(this.catalog.versions({ signal }), signal),
    ]);
    const result: ImageGCResult = { deleted: [], failed: new Map(), total: images.length, retained: 0 };
    const inUse = new Set(owners.filter((o) => o.status !== 'DEAD').flatMap((o) => o.images ?? []));
    const statuses = new Map<string, ArtifactStatus>(artifacts.map((a) => [a.id, a.status]));
    const versionImages = new Set(versions.flatMap((v) => (v.image ? [v.image] : [])));
    const versionArtifacts = new Set(versions.flatMap((v) => (v.artifact ? [v.artifact] : [])));
    const now = this.clock.now();
    const keepReason = (image: RuntimeImage): string | undefined => {
      if (inUse.has(image.name)) return 'in use';
      const artifactId = this.parseArtifactId(image.name);
      if (artifactId === undefined) return 'not managed';
      if (versionImages.has(image.name) || versionArtifacts.has(artifactId)) return 'referenced by a version';
      const status = statuses.get(artifactId);
      if (status === undefined) return now - image.createdAt < this.orphanGrace ? 'no artifact, inside the orphan grace' : undefined;
      return status === 'archived' ? undefined : `artifact ${status || 'without status'}`;
    };

    for (const image of images) {
      const reason = keepReason(image);
      if (reason !== undefined) {
        this.logger.debug('image GC keeps an image', { image: image.name, reason });
        result.retained++;
        continue;
      }
      if (signal.aborted) {
        result.failed.set(image.name, toError(signal.reason));
        continue;
      }
      try {
        await raceAbort(this.runtime.removeImage(image.name, { signal }), signal);
        result.deleted.push(image.name);
      } catch (err) {
        result.failed.set(image.name, failureUnder(signal, err));
      }
    }
    return result;
  }

  private logReport(report: CollectionReport): void {
    const { trigger, images, blobs } = report;
    if (images instanceof Error) this.logger.error('image GC failed', { trigger, error: images.message });
    else if (images.deleted.length > 0 || images.failed.size > 0) {
      this.logger.info('image GC removed images', { trigger, deleted: images.deleted.length, failed: images.failed.size, retained: images.retained, total: images.total });
      for (const [name, err] of images.failed) this.logger.warn('image GC could not remove an image', { image: name, error: err.message });
    } else this.logger.debug('image GC removed nothing', { trigger, retained: images.retained, total: images.total });
    if (blobs instanceof Error) this.logger.error('blob GC failed', { trigger, error: blobs.message });
    else if (blobs.deleted.length > 0 || blobs.failed.size > 0) {
      this.logger.info('blob GC removed blobs', { trigger, deleted: blobs.deleted.length, failed: blobs.failed.size, retained: blobs.retained, total: blobs.total });
      for (const [name, err] of blobs.failed) this.logger.warn('blob GC could not remove a blob', { blob: name, error: err.message });
    } else this.logger.debug('blob GC removed nothing', { trigger, retained: blobs.retained, total: blobs.total });
  }
}
