/**
 * CustomResourceDefinitions for the four agents.kruise.io/v1alpha1 kinds the Provider reads,
 * trimmed to what a cache needs: names, scope, short names, the status subresource where
 * upstream has one (Sandbox, SandboxSet, Checkpoint; SandboxTemplate has none) and printer
 * columns. Schemas preserve unknown fields instead of repeating upstream's full OpenAPI.
 * Install them with the embedded server's `crds` option, or on a cluster:
 *
 *   npm run build && node dist/examples/sandbox-provider/crds.js | kubectl apply -f -
 */
import { fileURLToPath } from 'node:url';
import { GROUP, VERSION } from './types.js';

interface Definition {
  plural: string;
  singular: string;
  kind: string;
  shortNames: string[];
  status: boolean;
  columns: { name: string; jsonPath: string; type: string }[];
}

const definitions: Definition[] = [
  {
    plural: 'sandboxes',
    singular: 'sandbox',
    kind: 'Sandbox',
    shortNames: ['sbx'],
    status: true,
    columns: [
      { name: 'Status', jsonPath: '.status.phase', type: 'string' },
      { name: 'Claimed', jsonPath: '.metadata.labels.agents\\.kruise\\.io/sandbox-claimed', type: 'string' },
      { name: 'Age', jsonPath: '.metadata.creationTimestamp', type: 'date' },
    ],
  },
  {
    plural: 'sandboxsets',
    singular: 'sandboxset',
    kind: 'SandboxSet',
    shortNames: ['sbs'],
    status: true,
    columns: [
      { name: 'Replicas', jsonPath: '.status.replicas', type: 'integer' },
      { name: 'Available', jsonPath: '.status.availableReplicas', type: 'integer' },
    ],
  },
  {
    plural: 'checkpoints',
    singular: 'checkpoint',
    kind: 'Checkpoint',
    shortNames: [],
    status: true,
    columns: [
      { name: 'Phase', jsonPath: '.status.phase', type: 'string' },
      { name: 'Checkpoint', jsonPath: '.status.checkpointId', type: 'string' },
    ],
  },
  { plural: 'sandboxtemplates', singular: 'sandboxtemplate', kind: 'SandboxTemplate', shortNames: ['sbt'], status: false, columns: [] },
];

function manifest(d: Definition): object {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const version: Record<string, unknown> = {
    name: VERSION,
    served: true,
    storage: true,
    schema: {
      openAPIV3Schema: { type: 'object', properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, spec: open, status: open } },
    },
  };
  if (d.status) version.subresources = { status: {} };
  if (d.columns.length > 0) version.additionalPrinterColumns = d.columns;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: { kind: d.kind, listKind: `${d.kind}List`, plural: d.plural, singular: d.singular, ...(d.shortNames.length ? { shortNames: d.shortNames } : {}) },
      scope: 'Namespaced',
      versions: [version],
    },
  };
}

/** The four CRD manifests (apiextensions.k8s.io/v1 objects). */
export function sandboxCrds(): object[] {
  return definitions.map(manifest);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sandboxCrds() }, null, 2));
}
