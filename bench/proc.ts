/**
 * What the benchmarks read about a process from outside it, through Linux's /proc, so that a
 * Go worker and a Node worker are measured by the same code: its TCP connections to one port,
 * its resident memory, its CPU time and its file-descriptor limit. The parsers are pure
 * functions of the file text; the readers return undefined once the process is gone.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** One row of /proc/<pid>/net/tcp or tcp6. */
export interface TcpSocket {
  remotePort: number;
  /** The kernel's state number: 1 is ESTABLISHED. */
  state: number;
  inode: number;
}

const TCP_ESTABLISHED = 1;

/**
 * The rows of a /proc/net/tcp or /proc/net/tcp6 table. Columns are: slot, local address:port,
 * remote address:port, state, queues, timers, retransmits, uid, timeout, inode; addresses,
 * ports and the state are hex.
 */
export function parseTcpTable(text: string): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const remote = cols[2].split(':');
    sockets.push({ remotePort: parseInt(remote[remote.length - 1], 16), state: parseInt(cols[3], 16), inode: Number(cols[9]) });
  }
  return sockets;
}

/** The inode of a /proc/<pid>/fd link target "socket:[12345]", or undefined for other files. */
export function socketInode(linkTarget: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return m ? Number(m[1]) : undefined;
}

/** Resident set size in bytes from /proc/<pid>/status (its VmRSS line, in kB). */
export function parseRssBytes(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * User plus system CPU time in clock ticks from /proc/<pid>/stat. The command name (field 2)
 * is in parentheses and may itself hold spaces and parentheses, so fields are counted from
 * the last ')'; utime and stime are fields 14 and 15.
 */
export function parseCpuTicks(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

/** The soft "Max open files" limit from /proc/<pid>/limits; Infinity for "unlimited". */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/**
 * Clock ticks per second for /proc/<pid>/stat. Linux has reported USER_HZ = 100 to user space
 * on every architecture for decades, whatever the kernel's own HZ.
 */
const USER_HZ = 100;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * ESTABLISHED TCP connections that process `pid` holds to remote `port`: its socket fds,
 * matched by inode against its network namespace's tcp and tcp6 tables. Sockets of other
 * processes (the apiserver's own loopback connections, the orchestrator's) never count.
 */
export function connectionsTo(pid: number, port: number): number | undefined {
  const inodes = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    try {
      const inode = socketInode(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed between readdir and readlink
    }
  }
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    const text = read(`/proc/${pid}/net/${table}`);
    if (text === undefined) continue;
    for (const s of parseTcpTable(text)) if (s.state === TCP_ESTABLISHED && s.remotePort === port && inodes.has(s.inode)) count++;
  }
  return count;
}

/** Resident memory of `pid` in bytes. */
export function rssBytes(pid: number): number | undefined {
  const status = read(`/proc/${pid}/status`);
  return status === undefined ? undefined : parseRssBytes(status);
}

/** CPU time (user + system) `pid` has used so far, in ms. */
export function cpuMs(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  const ticks = stat === undefined ? undefined : parseCpuTicks(stat);
  return ticks === undefined ? undefined : (ticks * 1000) / USER_HZ;
}

/** The soft open-files limit `pid` runs with. */
export function openFilesLimit(pid: number): number | undefined {
  const limits = read(`/proc/${pid}/limits`);
  return limits === undefined ? undefined : parseOpenFilesLimit(limits);
}
