// `npm run demo` as a user meets it: it stays on its own embedded server unless --kubeconfig
// names a cluster (an exported KUBECONFIG is not enough), says where it will write before it
// writes, and SIGINT or SIGTERM, mid-run or during setup, leaves nothing on the cluster. A
// spec-owned embedded API server plays the user's real cluster, given by a kubeconfig file.
// The output fits 100 columns, is redrawn in place on a terminal, and is plain lines elsewhere.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resources } from '../../lib/api/resource.js';
import { ApiServer } from '../../lib/testing/api-server/index.js';
import { LiveView, WIDTH, fit, statusHeader, statusLine, table, type Screen } from '../../examples/demo.js';
import { useCompiledExamples } from './example-process.js';

const examples = useCompiledExamples();

const ESC = '\x1b';

describe('npm run demo', () => {
  let cluster: ApiServer;
  let dir: string;
  let kubeconfig: string;

  beforeEach(async () => {
    cluster = await ApiServer.start();
    dir = await mkdtemp(join(tmpdir(), 'refwatch-demo-spec-'));
    kubeconfig = join(dir, 'kubeconfig');
    await cluster.writeKubeconfig(kubeconfig);
  });

  afterEach(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** What the demo left on the "cluster": namespaces, secrets and configmaps in any namespace. */
  function leftOnCluster() {
    return {
      namespaces: cluster.storage.list(resources.namespaces, '').items.map((n) => n.metadata?.name),
      secrets: cluster.storage.list(resources.secrets, '').items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
      configMaps: cluster.storage.list(resources.configMaps, '').items.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`),
    };
  }

  it('stays on its embedded server when only KUBECONFIG points at a cluster, and never contacts it', async () => {
    const demo = examples.start('demo', ['--duration', '1'], { KUBECONFIG: kubeconfig, HOME: dir });
    await demo.exitsWith(0);
    expect(demo.stdout).toContain('KUBECONFIG is set but not used');
    expect(demo.stdout).toMatch(/refwatch demo on the embedded API server https:\/\/127\.0\.0\.1:\d+/);
    expect(cluster.requests.length).toBe(0);
    expect(leftOnCluster()).toEqual({ namespaces: [], secrets: [], configMaps: [] });
  }, 30_000);

  it('prints plain lines that fit 100 columns, and one summary explaining every column, when not on a terminal', async () => {
    const demo = examples.start('demo', ['--duration', '6']);
    await demo.exitsWith(0);
    const lines = demo.stdout.split('\n');
    expect(demo.stdout).not.toContain(ESC);
    expect(lines.filter((l) => l.length > WIDTH)).toEqual([]);
    // Nothing had to be cut to fit.
    expect(lines.filter((l) => l.endsWith('…'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('summary after'))).toHaveLength(1);
    // The periodic rows (every 5 s), under their header.
    expect(lines).toContain(statusHeader());
    expect(lines.some((l) => /^\s+5 s {2}Watch\s+20\s+90\s+20\s/.test(l))).toBe(true);
    for (const column of ['strategy', 'objects', 'refs', 'reflectors', 'conns', 'GET', 'LIST', 'WATCH', 'seen', 'p50 ms', 'p99 ms']) {
      expect(lines.some((l) => l.startsWith(`  ${column.padEnd(12)}`))).toBe(true);
    }
    // The Watch lane saw the writes through its change events, within the run.
    const watchRow = lines.find((l) => l.startsWith('Watch '));
    const [seen, written] = (watchRow?.match(/(\d+)\/(\d+)/) ?? []).slice(1).map(Number);
    expect(written).toBeGreaterThan(10);
    expect(seen).toBe(written);
    expect(demo.stdout).toMatch(/cleaned up: deleted refwatch-demo-[0-9a-f]{6} and its objects; 0 connections open; server stopped/);
  }, 30_000);

  it('says which context and server it writes to before writing, and leaves nothing behind after SIGINT mid-run', async () => {
    const demo = examples.start('demo', ['--kubeconfig', kubeconfig, '--duration', '60'], { HOME: dir });
    await demo.waitFor(/running for 60 s/);
    const [, ns] = demo.stdout.match(/creating namespace (refwatch-demo-[0-9a-f]{6})/) ?? [];
    expect(leftOnCluster().secrets.filter((s) => s.startsWith(`${ns}/`))).toHaveLength(15);
    expect(leftOnCluster().configMaps.filter((c) => c.startsWith(`${ns}/`))).toHaveLength(5);

    demo.signal('SIGINT');
    await demo.exitsWith(130);
    const announce = demo.stdout.indexOf(`refwatch demo will write to context "refwatch" at ${cluster.url}:`);
    expect(announce).toBeGreaterThanOrEqual(0);
    expect(announce).toBeLessThan(demo.stdout.indexOf('creating namespace'));
    expect(demo.stdout).toMatch(/^summary after \d+ s, stopped by SIGINT$/m);
    expect(demo.stdout.split('\n').filter((l) => l.length > WIDTH || l.endsWith('…'))).toEqual([]);
    expect(demo.stdout).toContain(`cleaned up: deleted ${ns} and its objects; 0 connections open\n`);
    expect(leftOnCluster()).toEqual({ namespaces: [], secrets: [], configMaps: [] });
    expect(cluster.requests.filter((r) => r.verb === 'delete' && r.code >= 300)).toEqual([]);
  }, 30_000);

  it('leaves nothing behind after SIGTERM during setup', async () => {
    const demo = examples.start('demo', ['--kubeconfig', kubeconfig], { HOME: dir });
    await demo.waitFor(/creating namespace/);
    demo.signal('SIGTERM');
    await demo.exitsWith(143);
    expect(demo.stdout).not.toContain('running for');
    expect(leftOnCluster()).toEqual({ namespaces: [], secrets: [], configMaps: [] });
  }, 30_000);

  it('refuses options it does not know, and --context without --kubeconfig, with its usage', async () => {
    for (const args of [
      ['--kubeconfg', kubeconfig],
      ['--context', 'prod'],
      ['--duration', '-1'],
    ]) {
      const demo = examples.start('demo', args);
      await demo.exitsWith(2);
      expect(demo.stderr).toContain('usage: npm run demo');
    }
    expect(cluster.requests.length).toBe(0);
  }, 30_000);

  it('fails with the path when the kubeconfig cannot be read or lacks the context', async () => {
    const missing = examples.start('demo', ['--kubeconfig', join(dir, 'nope')]);
    expect(await missing.exit()).toEqual({ code: 1, signal: null });
    expect(missing.stderr).toContain(`demo failed: cannot read kubeconfig ${join(dir, 'nope')}`);

    const noContext = examples.start('demo', ['--kubeconfig', kubeconfig, '--context', 'prod']);
    expect(await noContext.exit()).toEqual({ code: 1, signal: null });
    expect(noContext.stderr).toContain(`demo failed: no context "prod" in ${kubeconfig} (it has: refwatch)`);
    expect(cluster.requests.length).toBe(0);
  }, 30_000);
});

/** A terminal (or pipe) that records what is written. */
function screen(isTTY: boolean, columns?: number): Screen & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(t: string) {
      this.text += t;
      return true;
    },
  };
}

describe('the demo view', () => {
  it('redraws a frame in place on a terminal: up over the previous frame, never a clear-screen', () => {
    const tty = screen(true, 120);
    const view = new LiveView(tty);
    view.line('setup done');
    view.frame(['a', 'b', 'c']);
    view.frame(['a2', 'b2']);
    view.frame(['final'], true);
    view.line('cleaned up');
    expect(tty.text).not.toContain(`${ESC}[2J`);
    expect(tty.text).not.toContain(`${ESC}[H`);
    const frames = tty.text.split(`${ESC}[J`);
    expect(frames[0]).toBe(`setup done\n\r${ESC}[2Ka\n\r${ESC}[2Kb\n\r${ESC}[2Kc\n`);
    // The second frame starts 3 lines up (over a, b, c), the third 2 lines up (over a2, b2).
    expect(frames[1]).toBe(`${ESC}[3A\r${ESC}[2Ka2\n\r${ESC}[2Kb2\n`);
    expect(frames[2]).toBe(`${ESC}[2A\r${ESC}[2Kfinal\n`);
    // After the final frame, lines go below it and nothing is redrawn over them.
    expect(frames[3]).toBe('cleaned up\n');
  });

  it('prints only the final frame, as plain lines, when the output is not a terminal', () => {
    const pipe = screen(false);
    const view = new LiveView(pipe);
    view.frame(['live 1']);
    view.frame(['live 2']);
    view.frame(['summary', 'row'], true);
    expect(pipe.text).toBe('summary\nrow\n');
  });

  it('cuts lines to the terminal width, so a frame never wraps and the cursor count stays right', () => {
    const narrow = screen(true, 20);
    new LiveView(narrow).frame(['x'.repeat(50)]);
    expect(narrow.text).toBe(`\r${ESC}[2K${'x'.repeat(18)}…\n${ESC}[J`);
    expect(fit('short', 10)).toBe('short');
  });

  it('fits the table, its legend and the status rows in 100 columns with large numbers', () => {
    const row = {
      strategy: 'Cache (TTL 5 s)',
      objects: 99_999,
      refs: 99_999,
      reflectors: 99_999,
      conns: 9_999,
      GET: 99_999,
      LIST: 99_999,
      WATCH: 99_999,
      seen: '9999/9999',
      p50: '99,999',
      p99: '99,999',
    };
    const lines = [...table([row, { ...row, strategy: 'Watch' }]), statusHeader(), statusLine(9_999, row)];
    expect(lines.filter((l) => l.length > WIDTH)).toEqual([]);
    // Columns stay separated: every header title and every value is its own word.
    expect(lines[0].trim().split(/\s+/)).toEqual(['strategy', 'objects', 'refs', 'reflectors', 'conns', 'GET', 'LIST', 'WATCH', 'seen', 'p50', 'ms', 'p99', 'ms']);
    expect(lines[1].split(/\s{1,}/).length).toBeGreaterThanOrEqual(11);
  });
});
