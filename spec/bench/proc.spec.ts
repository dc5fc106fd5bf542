import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { connectionsTo, cpuMs, openFilesLimit, parseCpuTicks, parseOpenFilesLimit, parseRssBytes, parseTcpTable, rssBytes, socketInode } from '../../bench/proc.js';

const TCP = [
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0100007F:9D5D 0100007F:D360 01 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 20 4 30 10 -1',
  '   1: 0100007F:A000 0100007F:D360 06 00000000:00000000 03:000009DA 00000000     0        0 0 3 0000000000000000',
  '   2: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 109 1 000000009eea237d 100 0 0 10 0',
  '',
].join('\n');

const TCP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '   0: 0000000000000000FFFF00000100007F:B1C2 0000000000000000FFFF00000100007F:1A0B 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1',
].join('\n');

describe('/proc parsers', () => {
  it('reads remote port, state and inode from tcp and tcp6 tables', () => {
    expect(parseTcpTable(TCP)).toEqual([
      { remotePort: 0xd360, state: 1, inode: 4242 },
      { remotePort: 0xd360, state: 6, inode: 0 },
      { remotePort: 0, state: 0x0a, inode: 109 },
    ]);
    expect(parseTcpTable(TCP6)).toEqual([{ remotePort: 0x1a0b, state: 1, inode: 777 }]);
  });

  it('takes socket inodes from fd link targets and ignores other files', () => {
    expect(socketInode('socket:[4242]')).toBe(4242);
    expect(socketInode('/dev/null')).toBeUndefined();
    expect(socketInode('pipe:[12]')).toBeUndefined();
  });

  it('reads VmRSS in bytes', () => {
    expect(parseRssBytes('Name:\tnode\nVmHWM:\t  200 kB\nVmRSS:\t  123456 kB\nThreads: 7\n')).toBe(123456 * 1024);
    expect(parseRssBytes('Name:\tzombie\n')).toBeUndefined();
  });

  it('counts stat fields from the last parenthesis, so a command name with spaces and parentheses does not shift them', () => {
    const tail = 'S 1 1 1 0 -1 4194304 103 0 0 0 250 50 0 0 20 0 1 0 90583 3133440 417';
    expect(parseCpuTicks(`24702 (node) ${tail}`)).toBe(300);
    expect(parseCpuTicks(`24702 (my (odd) cmd) ${tail}`)).toBe(300);
    expect(parseCpuTicks('garbage')).toBeUndefined();
  });

  it('reads the soft open-files limit', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                1048576              files\n';
    expect(parseOpenFilesLimit(limits)).toBe(20000);
    expect(parseOpenFilesLimit('Max open files            unlimited            unlimited            files')).toBe(Infinity);
    expect(parseOpenFilesLimit('')).toBeUndefined();
  });
});

describe('/proc readers', () => {
  it('count only the established connections this process opened to the port, not the ones it accepted', async () => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const accepted = once(server, 'connection');
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await Promise.all(clients.map((c) => once(c, 'connect')));
    await accepted;
    try {
      expect(connectionsTo(process.pid, port)).toBe(2);
    } finally {
      clients.forEach((c) => c.destroy());
      await new Promise((r) => server.close(r));
    }
  });

  it('measure this process, and answer undefined for a process that does not exist', () => {
    expect(rssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20);
    expect(cpuMs(process.pid)).toBeGreaterThan(0);
    expect(openFilesLimit(process.pid)).toBeGreaterThan(0);
    expect(connectionsTo(process.pid, 1)).toBe(0);
    const gone = 2 ** 22 + 1; // above Linux's pid_max limit
    expect(rssBytes(gone)).toBeUndefined();
    expect(cpuMs(gone)).toBeUndefined();
    expect(connectionsTo(gone, 1)).toBeUndefined();
  });
});
