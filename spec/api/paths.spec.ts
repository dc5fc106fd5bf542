// Request paths for core, named-group and cluster-scoped resources, and the names refused
// before a path can be built from them.
import { describe, expect, it } from '@jest/globals';
import { InvalidNameError } from '../../lib/api/names.js';
import { collectionPath, objectPath, withQuery } from '../../lib/api/paths.js';
import { resources, type ResourceType } from '../../lib/api/resource.js';

const widgets: ResourceType = { group: 'example.io', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true };

describe('paths', () => {
  it('builds core, group and cluster-scoped paths', () => {
    expect(collectionPath(resources.secrets, 'ns')).toBe('/api/v1/namespaces/ns/secrets');
    expect(collectionPath(resources.secrets, '')).toBe('/api/v1/secrets');
    expect(objectPath(widgets, 'ns', 'w')).toBe('/apis/example.io/v1/namespaces/ns/widgets/w');
    expect(objectPath(resources.nodes, 'ignored', 'n1')).toBe('/api/v1/nodes/n1');
    expect(objectPath(widgets, 'ns', 'system:x')).toBe('/apis/example.io/v1/namespaces/ns/widgets/system%3Ax');
  });

  for (const name of ['..', '.', 'a/b', '../../secrets', 'a%2Fb', '']) {
    it(`refuses the object name ${JSON.stringify(name)} instead of building a path with it`, () => {
      expect(() => objectPath(resources.secrets, 'ns', name)).toThrow(InvalidNameError);
      expect(() => objectPath(resources.secrets, 'ns', name)).toThrow(/^invalid resource name /);
    });
  }

  for (const namespace of ['..', '.', 'a/b', '%2e%2e']) {
    it(`refuses the namespace ${JSON.stringify(namespace)} for collections and objects`, () => {
      expect(() => collectionPath(resources.secrets, namespace)).toThrow(/^invalid namespace /);
      expect(() => objectPath(resources.secrets, namespace, 'ok')).toThrow(InvalidNameError);
    });
  }

  it('leaves undefined and empty query values out', () => {
    expect(withQuery('/p', { a: 'x y', b: undefined, c: '', d: true, e: 5 })).toBe('/p?a=x+y&d=true&e=5');
  });
});
