import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { monotonicMs, parseCommand, parseMessage } from '../../../bench/side-by-side/protocol.js';

describe('worker protocol', () => {
  it('reads worker messages and ignores stray output', () => {
    expect(parseMessage('{"type":"ready","readyMs":12.5,"readable":3,"failedGets":0}')).toEqual({ type: 'ready', readyMs: 12.5, readable: 3, failedGets: 0 });
    expect(parseMessage('{"type":"visible","name":"secret-1","atMs":null}')).toEqual({ type: 'visible', name: 'secret-1', atMs: null });
    expect(parseMessage('W1202 reflector.go:561] failed to list')).toBeUndefined();
    expect(parseMessage('{"type":"bogus"}')).toBeUndefined();
    expect(parseMessage('{"type":')).toBeUndefined();
    expect(parseMessage('null')).toBeUndefined();
  });

  it('reads commands and refuses malformed ones', () => {
    expect(parseCommand('{"op":"start"}')).toEqual({ op: 'start' });
    expect(parseCommand('{"op":"expect","name":"secret-7","value":"v","timeoutMs":1000}')).toEqual({ op: 'expect', name: 'secret-7', value: 'v', timeoutMs: 1000 });
    expect(parseCommand('{"op":"expect","name":"secret-7"}')).toBeUndefined();
    expect(parseCommand('{"op":"launch"}')).toBeUndefined();
    expect(parseCommand('not json')).toBeUndefined();
    expect(parseCommand('null')).toBeUndefined();
  });

  it("stamps time on a clock every process shares, so a worker's stamp can be subtracted from ours", () => {
    const before = monotonicMs();
    const child = Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(Number(process.hrtime.bigint()) / 1e6))'], { encoding: 'utf8' }));
    const after = monotonicMs();
    expect(child).toBeGreaterThanOrEqual(before);
    expect(child).toBeLessThanOrEqual(after);
  });
});
