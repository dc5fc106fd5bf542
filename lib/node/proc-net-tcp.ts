/**
 * Reads which TCP ports a process's network namespace listens on, from `/proc/<pid>/net/tcp`
 * and `tcp6`. The port monitor uses it instead of dialling the container from the host because
 * iptables DNAT rules for node ports intercept such dials (miren moved to this for that reason);
 * reading the table of the pause container's pid sees the container's own namespace.
 *
 * The table format (one header line, then one socket per line):
 *
 *     sl  local_address rem_address   st tx_queue ...
 *      0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ...
 *
 * `local_address` is the address in hex, each 32-bit word in host (little-endian) byte order,
 * then `:` and the port in big-endian hex; `st` 0A is LISTEN.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The kernel's TCP_LISTEN state, as the table prints it. */
const LISTEN_STATE = '0A';

/** One LISTEN row of a socket table. */
export interface ListenSocket {
  /** The bound address, e.g. `0.0.0.0`, `127.0.0.1`, `::`, `::1`, `::ffff:127.0.0.1`. */
  address: string;
  /** The port listened on. */
  port: number;
  /** 4 for a `tcp` row, 6 for a `tcp6` one. */
  family: 4 | 6;
  /** Bound to a loopback address only (127/8, ::1, or 127/8 mapped into IPv6): unreachable from outside the namespace. */
  loopback: boolean;
}

/** The ports a namespace listens on: those reachable from outside it, and those on loopback only. */
export interface ListeningPorts {
  /** Sorted; a port bound on any non-loopback address (the wildcard included) counts here. */
  routable: number[];
  /** Sorted; ports bound only on loopback addresses. */
  loopback: number[];
}

/** Where the tables are read from; tests point it at a directory of fixture files. */
export interface ProcOptions {
  /** Default `/proc`. Tables are read from `<procRoot>/<pid>/net/tcp` and `tcp6`. */
  procRoot?: string;
}

/** ProcOptions for one read, which can be cancelled. */
export interface ProcReadOptions extends ProcOptions {
  /** Cancels the reads: the call then rejects with an AbortError instead of answering. */
  signal?: AbortSignal;
}

/**
 * Decodes a table's hex address: 8 hex digits for IPv4, 32 for IPv6, each 32-bit word
 * little-endian (`0100007F` is 127.0.0.1). Undefined for anything else.
 */
export function parseHexAddress(hex: string): { address: string; family: 4 | 6 } | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9a-fA-F]+$/.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let word = 0; word < hex.length / 8; word++) {
    for (let i = 3; i >= 0; i--) bytes.push(parseInt(hex.slice(word * 8 + i * 2, word * 8 + i * 2 + 2), 16));
  }
  if (bytes.length === 4) return { address: bytes.join('.'), family: 4 };
  return { address: formatIPv6(bytes), family: 6 };
}

/**
 * The LISTEN sockets of one table's text. The header and rows that are not LISTEN are skipped,
 * and so are malformed rows (a truncated read, a format this parser does not know), so a bad
 * line never hides the good ones.
 */
export function parseListenSockets(table: string): ListenSocket[] {
  const out: ListenSocket[] = [];
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i].trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== LISTEN_STATE) continue;
    const local = fields[1];
    const colon = local.lastIndexOf(':');
    if (colon < 0) continue;
    const portHex = local.slice(colon + 1);
    if (!/^[0-9a-fA-F]{1,4}$/.test(portHex)) continue;
    const decoded = parseHexAddress(local.slice(0, colon));
    if (!decoded) continue;
    out.push({ ...decoded, port: parseInt(portHex, 16), loopback: isLoopback(decoded.address, decoded.family) });
  }
  return out;
}

/** Whether one table's text has a LISTEN row on `port` (any address). */
export function tableListensOn(table: string, port: number): boolean {
  return parseListenSockets(table).some((s) => s.port === port);
}

/**
 * The LISTEN sockets of `pid`'s namespace, IPv4 and IPv6, or undefined when the IPv4 table
 * cannot be read (no such process, no permission): that is not the same as listening on
 * nothing. A missing tcp6 table is fine, a host without IPv6 has none.
 */
export async function readListenSockets(pid: number, opts: ProcReadOptions = {}): Promise<ListenSocket[] | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  opts.signal?.throwIfAborted();
  const dir = join(opts.procRoot ?? '/proc', String(pid), 'net');
  const [tcp, tcp6] = await Promise.all([readTable(join(dir, 'tcp'), opts.signal), readTable(join(dir, 'tcp6'), opts.signal)]);
  if (tcp === undefined) return undefined;
  return [...parseListenSockets(tcp), ...(tcp6 === undefined ? [] : parseListenSockets(tcp6))];
}

/** Whether `pid`'s namespace listens on `port`; false when its tables cannot be read. */
export async function isPortListening(pid: number, port: number, opts: ProcReadOptions = {}): Promise<boolean> {
  return ((await readListenSockets(pid, opts)) ?? []).some((s) => s.port === port);
}

/**
 * Splits the listening ports of `pid`'s namespace into routable and loopback-only ones
 * (miren's DiagnoseListening): what an app that ignored its configured port bound instead.
 * Undefined when the IPv4 table cannot be read.
 */
export async function listeningPorts(pid: number, opts: ProcReadOptions = {}): Promise<ListeningPorts | undefined> {
  const sockets = await readListenSockets(pid, opts);
  return sockets && classifyPorts(sockets);
}

/** Routable and loopback-only ports of a set of sockets, deduplicated and sorted. */
export function classifyPorts(sockets: ListenSocket[]): ListeningPorts {
  const routable = new Set<number>();
  const loopback = new Set<number>();
  for (const s of sockets) (s.loopback ? loopback : routable).add(s.port);
  const sorted = (ports: Iterable<number>) => [...ports].sort((a, b) => a - b);
  return { routable: sorted(routable), loopback: sorted([...loopback].filter((p) => !routable.has(p))) };
}

/** The table's text, or undefined when it cannot be read; an abort rejects instead. */
async function readTable(path: string, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', signal });
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

function isLoopback(address: string, family: 4 | 6): boolean {
  if (family === 4) return address.startsWith('127.');
  return address === '::1' || address.startsWith('::ffff:127.');
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`, IPv4-mapped in dotted form. */
function formatIPv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${bytes.slice(12).join('.')}`;
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
