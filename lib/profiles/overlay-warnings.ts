/**
 * What the profile cache says when it merges a user-authored overlay (node-agent's
 * emitOverlayMetrics): a legacy-load count per overlay kind, full or partial, and a deprecation
 * warning per overlay version. The overlays are still served; the warning tells their authors to
 * move to the learned profile, once per version rather than once per container and rebuild.
 */
import { LRUCache } from 'lru-cache';
import { toLogger, type LoggerLike, type NormalizedLogger } from '../util/logger.js';
import type { OverlayPass } from './entry.js';
import type { ContainerProfileCacheMetrics } from './metrics.js';
import type { OverlayKind } from './projection.js';
import type { ApplicationProfile, NetworkNeighborhood } from './types.js';

/**
 * Distinct overlay versions the deprecation warning remembers having logged. Upstream remembers
 * every one for the life of the process; at this bound a long-lived agent's memory stays flat
 * and a forgotten version at worst logs its warning once more.
 */
export const DEPRECATION_WARNINGS_REMEMBERED = 10_000;

/**
 * Reports the overlays each entry build merged: legacy-load metrics, and a deprecation warning once
 * per overlay version (remembered for the last DEPRECATION_WARNINGS_REMEMBERED versions).
 */
export class OverlayWarnings {
  private readonly metrics: ContainerProfileCacheMetrics;
  private readonly logger: NormalizedLogger;
  private readonly warned = new LRUCache<string, true>({ max: DEPRECATION_WARNINGS_REMEMBERED });

  /**
   * @param metrics hears a legacy load per merged overlay.
   * @param logger hears each deprecation warning, at warn; any LoggerLike.
   */
  constructor(metrics: ContainerProfileCacheMetrics, logger?: LoggerLike) {
    this.metrics = metrics;
    this.logger = toLogger(logger);
  }

  /**
   * Reports one overlay pass of an entry build: a `partial` legacy load and a warning naming the
   * missing containers for each overlay that misses pod containers, a `full` load for each
   * merged overlay that does not, and the deprecation warning for every merged overlay version
   * not warned about yet.
   */
  report(pass: OverlayPass): void {
    const partial = new Set<OverlayKind>();
    for (const w of pass.warnings) {
      partial.add(w.kind);
      this.metrics.reportContainerProfileLegacyLoad(w.kind, 'partial');
      this.warnOnce(w.kind, w.namespace, w.name, w.resourceVersion, `pod has containers missing from user CRD: [${w.missingContainers.join(' ')}]`);
    }
    const overlays: [OverlayKind, ApplicationProfile | NetworkNeighborhood | undefined, string][] = [
      ['application', pass.ap, 'user-authored ApplicationProfile merged into ContainerProfile'],
      ['network', pass.nn, 'user-authored NetworkNeighborhood merged into ContainerProfile'],
    ];
    for (const [kind, obj, reason] of overlays) {
      if (!obj) continue;
      if (!partial.has(kind)) this.metrics.reportContainerProfileLegacyLoad(kind, 'full');
      const meta = obj.metadata ?? {};
      this.warnOnce(kind, meta.namespace ?? '', meta.name ?? '', meta.resourceVersion ?? '', reason);
    }
  }

  private warnOnce(kind: OverlayKind, namespace: string, name: string, resourceVersion: string, reason: string): void {
    const key = `${kind}|${namespace}/${name}@${resourceVersion}`;
    if (this.warned.has(key)) return;
    this.warned.set(key, true);
    this.logger.warn('user-authored legacy profile merged (deprecated)', { kind, namespace, name, resourceVersion, reason });
  }
}
