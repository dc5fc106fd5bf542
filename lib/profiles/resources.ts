/**
 * The three kinds of kubescape storage object the profile cache reads. They are served by
 * kubescape's aggregated API server (APIService `v1beta1.spdx.softwarecomposition.kubescape.io`),
 * not by CRDs, so no CRD manifest exists to take them from; the plurals are those of kubescape
 * storage's generated clientset (v0.0.258), and all three are namespaced.
 */
import type { ResourceType } from '../api/resource.js';

/** The API group of every profile kind. */
export const PROFILE_API_GROUP = 'spdx.softwarecomposition.kubescape.io';
/** The one version node-agent v0.3.108 reads. */
export const PROFILE_API_VERSION = 'v1beta1';

/**
 * The ResourceTypes of the three kinds the profile cache reads (all namespaced, in
 * `spdx.softwarecomposition.kubescape.io/v1beta1`), for
 * `client.source(profileResources.containerProfiles)` and the like.
 */
export const profileResources = {
  containerProfiles: {
    group: PROFILE_API_GROUP,
    version: PROFILE_API_VERSION,
    resource: 'containerprofiles',
    kind: 'ContainerProfile',
    namespaced: true,
  },
  applicationProfiles: {
    group: PROFILE_API_GROUP,
    version: PROFILE_API_VERSION,
    resource: 'applicationprofiles',
    kind: 'ApplicationProfile',
    namespaced: true,
  },
  networkNeighborhoods: {
    group: PROFILE_API_GROUP,
    version: PROFILE_API_VERSION,
    resource: 'networkneighborhoods',
    kind: 'NetworkNeighborhood',
    namespaced: true,
  },
} as const satisfies Record<string, ResourceType>;
