// Ports TestParseNodeAnnotation (A6 of the reference: GetObjectTTLFromNodeFunc) for ttlFromNode,
// with TTLs in ms, plus strconv.Atoi's edges and the TTL actually driving a Cache manager.
import { describe, expect, it } from '@jest/globals';
import type { V1Node, V1Secret } from '@kubernetes/client-node';
import { resources } from '../../lib/api/resource.js';
import { SecretManager } from '../../lib/manager/kind-managers.js';
import { NODE_TTL_ANNOTATION, ttlFromNode } from '../../lib/manager/node-ttl.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { MemorySource } from '../../lib/testing/memory-source.js';

function nodeWith(annotations: Record<string, string> | undefined): V1Node {
  return { metadata: annotations === undefined ? { name: 'node' } : { name: 'node', annotations } };
}

describe('ttlFromNode (TestParseNodeAnnotation)', () => {
  it('uses the upstream annotation key', () => {
    expect(NODE_TTL_ANNOTATION).toBe('node.alpha.kubernetes.io/ttl');
  });

  const table: Array<[string, () => Promise<V1Node | null | undefined>, [number, boolean] | false]> = [
    ['getNode fails with "error"', () => Promise.reject(new Error('error')), false],
    ['node without an annotations map', async () => nodeWith(undefined), false],
    ['node with empty annotations', async () => nodeWith({}), false],
    ['annotation "bad"', async () => nodeWith({ [NODE_TTL_ANNOTATION]: 'bad' }), false],
    ['annotation "0" (a valid zero TTL)', async () => nodeWith({ [NODE_TTL_ANNOTATION]: '0' }), [0, true]],
    ['annotation "60" (one minute)', async () => nodeWith({ [NODE_TTL_ANNOTATION]: '60' }), [60_000, true]],
  ];

  it.each(table)('%s', async (_label, getNode, expected) => {
    const [ttl, exists] = await ttlFromNode(getNode)();
    if (expected === false) expect(exists).toBe(false);
    else expect([ttl, exists]).toEqual(expected);
  });

  it('does not exist when getNode throws synchronously or answers null / undefined / no metadata', async () => {
    const throwing = () => {
      throw new Error('no node');
    };
    expect((await ttlFromNode(throwing)())[1]).toBe(false);
    expect((await ttlFromNode(async () => null)())[1]).toBe(false);
    expect((await ttlFromNode(async () => undefined)())[1]).toBe(false);
    expect((await ttlFromNode(async () => ({}) as V1Node)())[1]).toBe(false);
  });

  it('ignores other annotations', async () => {
    const getNode = async () => nodeWith({ 'node.alpha.kubernetes.io/ttl-other': '60', ttl: '60' });
    expect((await ttlFromNode(getNode)())[1]).toBe(false);
  });

  // strconv.Atoi: an optional sign and ASCII decimal digits, nothing else, within int64.
  it.each([
    ['+5', [5_000, true]],
    ['-1', [-1_000, true]],
    ['600', [600_000, true]],
    ['007', [7_000, true]],
  ] as Array<[string, [number, boolean]]>)('annotation %j parses as strconv.Atoi does', async (value, expected) => {
    expect(await ttlFromNode(async () => nodeWith({ [NODE_TTL_ANNOTATION]: value }))()).toEqual(expected);
  });

  it.each(['', ' 60', '60 ', '60s', '1.5', '1e3', '0x10', '--1', '+', '６０'])('annotation %j is not an integer Atoi accepts: does not exist', async (value) => {
    const [, exists] = await ttlFromNode(async () => nodeWith({ [NODE_TTL_ANNOTATION]: value }))();
    expect(exists).toBe(false);
  });

  it('annotation beyond the int64 range does not exist (strconv.Atoi fails with a range error)', async () => {
    // 2^63 is one past Go's max int: Atoi returns ErrRange, so upstream answers (0, false).
    for (const value of ['9223372036854775808', '99999999999999999999', '-9223372036854775809']) {
      const [, exists] = await ttlFromNode(async () => nodeWith({ [NODE_TTL_ANNOTATION]: value }))();
      expect({ value, exists }).toEqual({ value, exists: false });
    }
  });

  it('a non-string annotation value (malformed node) does not exist', async () => {
    const node = { metadata: { annotations: { [NODE_TTL_ANNOTATION]: 60 } } } as unknown as V1Node;
    expect((await ttlFromNode(async () => node)())[1]).toBe(false);
  });

  it('reads the node on every call, so a changed annotation applies at once', async () => {
    let value = '10';
    let reads = 0;
    const getTtl = ttlFromNode(async () => {
      reads++;
      return nodeWith({ [NODE_TTL_ANNOTATION]: value });
    });
    expect(await getTtl()).toEqual([10_000, true]);
    value = '20';
    expect(await getTtl()).toEqual([20_000, true]);
    expect(reads).toBe(2);
  });

  it("drives the Cache strategy's TTL: the node's TTL replaces the default", async () => {
    const clock = new FakeClock();
    const source = new MemorySource<V1Secret>(resources.secrets);
    source.create({ metadata: { name: 's1', namespace: 'ns1' }, data: { k: 'dg==' } });
    let annotation: string | undefined = '300';
    const getNode = async () => nodeWith(annotation === undefined ? {} : { [NODE_TTL_ANNOTATION]: annotation });
    const manager = new SecretManager({ source, strategy: 'Cache', clock, getTtl: ttlFromNode(getNode) });
    manager.registerPod({ metadata: { namespace: 'ns1', name: 'pod', uid: 'u1' }, spec: { containers: [], imagePullSecrets: [{ name: 's1' }] } });

    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(1);
    clock.step(299_999);
    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(1); // fresh for the node's 5 minutes, well past the 1-minute default
    clock.step(1);
    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(2);

    annotation = '0'; // zero TTL: every get fetches
    await manager.getSecret('ns1', 's1');
    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(4);

    annotation = undefined; // no annotation: the default minute applies again
    clock.step(59_999);
    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(4);
    clock.step(1);
    await manager.getSecret('ns1', 's1');
    expect(source.count('get')).toBe(5);
    await manager.close();
  });
});
