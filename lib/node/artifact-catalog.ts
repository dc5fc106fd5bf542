/**
 * ArtifactCatalog is what the image and blob GC need to know beyond the runtime: which build
 * artifacts exist and whether they are archived, and which app versions still point at an image,
 * an artifact or a static blob (miren's Artifact and AppVersion entities). Images and blobs are
 * only ever deleted on the catalog's word, so the catalog is an interface an agent implements
 * over its own source of truth.
 */
import type { RuntimeCallOptions } from './runtime.js';

/** `archived` artifacts may be collected; `active` ones and legacy ones without a status (`''`) may not. */
export type ArtifactStatus = 'active' | 'archived' | '';

/** A build artifact as the GC needs it: its id, whether it is archived, and its manifest. */
export interface Artifact {
  /** e.g. `artifact/a-abc123`; parseArtifactId maps an image name to it. */
  id: string;
  /** Whether its images and blobs may go: only `archived` ones may. */
  status: ArtifactStatus;
  /** The OCI image manifest (JSON text) the artifact was pushed with, when known: its blobs are kept while the artifact is not archived. */
  manifest?: string;
}

/** An app version: what a deploy or a rollback to it needs, kept whatever its artifact's status. */
export interface ArtifactVersion {
  /** The image it runs. */
  image?: string;
  /** The artifact it was built from. */
  artifact?: string;
  /** The digest of its static-content blob in the registry. */
  staticArtifact?: string;
}

/** Both lists reject on failure; the GC then deletes nothing. */
export interface ArtifactCatalog {
  /** Every artifact; rejects on failure, and the GC then deletes nothing. */
  artifacts(opts?: RuntimeCallOptions): Promise<Artifact[]>;
  /** Every app version; rejects on failure, and the GC then deletes nothing. */
  versions(opts?: RuntimeCallOptions): Promise<ArtifactVersion[]>;
}

/** The registry miren pushes app images to; only images under it are miren-managed. */
export const MANAGED_REGISTRY_PREFIX = 'cluster.local:5000/';

/**
 * The artifact id of a managed image (miren's ParseArtifactID): `cluster.local:5000/<app>:<tag>`
 * gives `artifact/<tag>`; anything else (another registry, no tag, an empty tag) is not managed
 * and gives undefined, so the GC keeps it.
 */
export function parseArtifactId(imageName: string): string | undefined {
  if (!imageName.startsWith(MANAGED_REGISTRY_PREFIX)) return undefined;
  const rest = imageName.slice(MANAGED_REGISTRY_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon < 0) return undefined;
  const tag = rest.slice(colon + 1);
  return tag === '' ? undefined : `artifact/${tag}`;
}

/**
 * The blob digests an OCI image manifest references: its config and its layers. Throws a
 * SyntaxError or TypeError for text that is not such a manifest.
 */
export function manifestDigests(manifest: string): string[] {
  const parsed: unknown = JSON.parse(manifest);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('manifest is not a JSON object');
  const { config, layers } = parsed as { config?: unknown; layers?: unknown };
  if (layers !== undefined && !Array.isArray(layers)) throw new TypeError('manifest layers is not an array');
  const digests: string[] = [];
  const add = (descriptor: unknown) => {
    const digest = (descriptor as { digest?: unknown } | null)?.digest;
    if (typeof digest === 'string' && digest !== '') digests.push(digest);
  };
  add(config);
  for (const layer of (layers as unknown[] | undefined) ?? []) add(layer);
  return digests;
}
