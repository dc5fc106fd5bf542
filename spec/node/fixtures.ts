// Test doubles the node specs share: an artifact catalog and a desired state held in memory.
import type { Artifact, ArtifactCatalog, ArtifactVersion } from '../../lib/node/artifact-catalog.js';
import type { DesiredState, Owner } from '../../lib/node/desired-state.js';

export class MemoryCatalog implements ArtifactCatalog {
  artifactList: Artifact[] = [];
  versionList: ArtifactVersion[] = [];
  async artifacts(): Promise<Artifact[]> {
    return this.artifactList;
  }
  async versions(): Promise<ArtifactVersion[]> {
    return this.versionList;
  }
}

/** Owners held in memory; list and get agree, as when the index has caught up. */
export class MemoryOwners implements DesiredState {
  owners: Owner[] = [];
  async list(): Promise<Owner[]> {
    return this.owners;
  }
  async get(id: string): Promise<Owner | undefined> {
    return this.owners.find((o) => o.id === id);
  }
}
