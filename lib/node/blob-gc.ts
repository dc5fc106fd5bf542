/**
 * Blob GC removes registry blobs nothing references any more (miren's RunBlobGC): the files in
 * `<dataPath>/registry/blobs`, named by digest, against the digests that non-archived artifacts'
 * manifests and app versions' static artifacts name. It runs after every image GC, independently
 * of it, because the registry's blobs outlive the images containerd pulled from them.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { raceAbort } from '../util/abort.js';
import type { Clock } from '../util/clock.js';
import { errorMessage, toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import { manifestDigests, type ArtifactCatalog } from './artifact-catalog.js';
import { toError } from './values.js';

/**
 * A blob modified within this many ms is kept even when unreferenced: it may be an upload in
 * progress whose manifest (and so whose reference) does not exist yet. 1 hour, upstream's.
 */
export const DEFAULT_BLOB_MIN_AGE = 60 * 60_000;

/** What runBlobGC collects and against what. */
export interface BlobGCOptions {
  /** The directory holding one file per blob. */
  blobsDir: string;
  /** Says which digests are still referenced. */
  catalog: ArtifactCatalog;
  /** now() must be epoch ms: it is compared with file modification times. */
  clock: Clock;
  /** Hears manifests that cannot be parsed, at warn. Any LoggerLike; default: none. */
  logger?: LoggerLike;
  /** Default 1 hour. */
  minAge?: number;
  /** Ends the collection before the next blob; the catalog reads reject at once. */
  signal?: AbortSignal;
}

/** What one blob collection did. */
export interface BlobGCResult {
  /** Blob file names (digests) removed. */
  deleted: string[];
  /** Blob file names that could not be read or removed, with why. */
  failed: Map<string, Error>;
  /** Entries in the directory. */
  total: number;
  /** Entries kept: young, referenced, not a regular file, or unreadable. */
  retained: number;
}

/**
 * Removes the unreferenced blobs older than `minAge`. A missing directory is an empty result,
 * not an error. Rejects (removing nothing) when the directory or the catalog cannot be read.
 */
export async function runBlobGC(opts: BlobGCOptions): Promise<BlobGCResult> {
  const result: BlobGCResult = { deleted: [], failed: new Map(), total: 0, retained: 0 };
  let entries: string[];
  try {
    entries = await readdir(opts.blobsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw new Error(`failed to read blobs directory ${opts.blobsDir}: ${errorMessage(err)}`);
  }
  result.total = entries.length;
  if (entries.length === 0) return result;
  const referenced = await referencedDigests(opts, toLogger(opts.logger));
  const minAge = opts.minAge ?? DEFAULT_BLOB_MIN_AGE;
  const now = opts.clock.now();

  for (const name of entries) {
    opts.signal?.throwIfAborted();
    const path = join(opts.blobsDir, name);
    let info;
    try {
      info = await lstat(path);
    } catch (err) {
      result.failed.set(name, toError(err));
      result.retained++;
      continue;
    }
    // Young first: an upload in progress is kept whatever the catalog says.
    if (now - info.mtimeMs < minAge || referenced.has(name) || !info.isFile()) {
      result.retained++;
      continue;
    }
    try {
      await unlink(path);
      result.deleted.push(name);
    } catch (err) {
      result.failed.set(name, toError(err));
    }
  }
  return result;
}

/**
 * Every digest a non-archived artifact's manifest or an app version's static artifact names.
 * Legacy artifacts without a status count as active. A malformed manifest is skipped with a
 * warning: its blobs may then be collected, which trades one artifact's safety for GC that a
 * single bad manifest cannot block.
 */
async function referencedDigests(opts: BlobGCOptions, logger: NormalizedLogger): Promise<Set<string>> {
  const signal = opts.signal;
  const [artifacts, versions] = await Promise.all([
    signal ? raceAbort(opts.catalog.artifacts({ signal }), signal) : opts.catalog.artifacts(),
    signal ? raceAbort(opts.catalog.versions({ signal }), signal) : opts.catalog.versions(),
  ]);
  const digests = new Set<string>();
  for (const artifact of artifacts) {
    if (artifact.status === 'archived' || !artifact.manifest) continue;
    try {
      for (const digest of manifestDigests(artifact.manifest)) digests.add(digest);
    } catch (err) {
      logger.warn('blob GC: skipping an artifact whose manifest cannot be parsed', { artifact: artifact.id, error: errorMessage(err) });
    }
  }
  for (const version of versions) if (version.staticArtifact) digests.add(version.staticArtifact);
  return digests;
}
