// node-agent's emitOverlayMetrics: a legacy-load count per merged overlay, full or partial, and
// one deprecation warning per overlay version, however often that version is merged.
import { describe, expect, it } from '@jest/globals';
import { DEPRECATION_WARNINGS_REMEMBERED, OverlayWarnings } from '../../lib/profiles/overlay-warnings.js';
import type { ApplicationProfile, NetworkNeighborhood } from '../../lib/profiles/types.js';
import { RecordingLogger, RecordingMetrics } from './fixtures.js';

const DEPRECATED = 'user-authored legacy profile merged (deprecated)';
const ap = (rv: string): ApplicationProfile => ({ metadata: { namespace: 'ns', name: 'override', resourceVersion: rv }, spec: { containers: [] } });
const nn = (rv: string): NetworkNeighborhood => ({ metadata: { namespace: 'ns', name: 'override', resourceVersion: rv }, spec: { containers: [] } });

function setup() {
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  return { metrics, logger, warnings: new OverlayWarnings(metrics, logger) };
}

describe('OverlayWarnings', () => {
  it('counts a full load per merged overlay and warns once per overlay version', () => {
    const { metrics, logger, warnings } = setup();
    for (let i = 0; i < 3; i++) warnings.report({ ap: ap('5'), nn: nn('7'), warnings: [] });
    expect(metrics.legacyLoad('application', 'full')).toBe(3);
    expect(metrics.legacyLoad('network', 'full')).toBe(3);
    expect(logger.warnings(DEPRECATED)).toEqual([
      { kind: 'application', namespace: 'ns', name: 'override', resourceVersion: '5', reason: 'user-authored ApplicationProfile merged into ContainerProfile' },
      { kind: 'network', namespace: 'ns', name: 'override', resourceVersion: '7', reason: 'user-authored NetworkNeighborhood merged into ContainerProfile' },
    ]);
  });

  it('warns again for a new version of the same overlay', () => {
    const { logger, warnings } = setup();
    warnings.report({ ap: ap('5'), nn: undefined, warnings: [] });
    warnings.report({ ap: ap('6'), nn: undefined, warnings: [] });
    expect(logger.warnings(DEPRECATED).map((f) => f.resourceVersion)).toEqual(['5', '6']);
  });

  it('counts an overlay that misses pod containers as partial, not full, and names the missing containers', () => {
    const { metrics, logger, warnings } = setup();
    warnings.report({
      ap: ap('5'),
      nn: nn('7'),
      warnings: [{ kind: 'application', namespace: 'ns', name: 'override', resourceVersion: '5', missingContainers: ['sidecar', 'init'] }],
    });
    expect(metrics.legacyLoad('application', 'partial')).toBe(1);
    expect(metrics.legacyLoad('application', 'full')).toBe(0);
    expect(metrics.legacyLoad('network', 'full')).toBe(1);
    // The partial warning is the version's one warning; the merge itself does not warn again.
    expect(logger.warnings(DEPRECATED).map((f) => [f.kind, f.reason])).toEqual([
      ['application', 'pod has containers missing from user CRD: [sidecar init]'],
      ['network', 'user-authored NetworkNeighborhood merged into ContainerProfile'],
    ]);
  });

  it('reports nothing for a pass without overlays', () => {
    const { metrics, logger, warnings } = setup();
    warnings.report({ ap: undefined, nn: undefined, warnings: [] });
    expect(metrics.legacyLoads.size).toBe(0);
    expect(logger.lines).toEqual([]);
  });

  it('remembers a bounded number of versions: the oldest forgotten one may warn once more', () => {
    const { logger, warnings } = setup();
    for (let v = 0; v <= DEPRECATION_WARNINGS_REMEMBERED; v++) warnings.report({ ap: ap(String(v)), nn: undefined, warnings: [] });
    expect(logger.warnings(DEPRECATED)).toHaveLength(DEPRECATION_WARNINGS_REMEMBERED + 1);
    warnings.report({ ap: ap(String(DEPRECATION_WARNINGS_REMEMBERED)), nn: undefined, warnings: [] });
    warnings.report({ ap: ap('0'), nn: undefined, warnings: [] });
    expect(
      logger
        .warnings(DEPRECATED)
        .map((f) => f.resourceVersion)
        .slice(-1),
    ).toEqual(['0']);
    expect(logger.warnings(DEPRECATED)).toHaveLength(DEPRECATION_WARNINGS_REMEMBERED + 2);
  });
});
