/**
 * A real control plane for the e2e suite: etcd and kube-apiserver, built from the Go module
 * proxy by scripts/kube/build.sh, started on 127.0.0.1 with random ports and envtest-style
 * flags. Users: an admin (system:masters), a reader whose RBAC allows only get, list and watch
 * of secrets and configmaps in one namespace, and a sandbox reader with no RBAC of its own (its
 * e2e file grants it list and watch of sandboxes in one namespace). Processes are ended by their pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { generateClientCertificates } from '../../lib/testing/api-server/certificates.js';

export interface ClusterUser {
  name: string;
  token: string;
  kubeconfig: KubeConfig;
  kubeconfigPath: string;
}

/** The namespace the limited reader may read secrets and configmaps in. */
export const READER_NAMESPACE = 'reader-allowed';

const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

export class RealCluster {
  private etcd: ChildProcess | undefined;
  private apiserver: ChildProcess | undefined;
  private apiserverArgs: string[] = [];
  readonly admin: ClusterUser;
  readonly reader: ClusterUser;
  /** A token user with no permissions until a test binds a Role to "sandbox-reader". */
  readonly sandboxReader: ClusterUser;
  /** An admin (system:masters) that authenticates with an x509 client certificate instead of a token. */
  readonly certAdmin: ClusterUser;
  readonly url: string;
  readonly caPem: string;

  private constructor(
    readonly binDir: string,
    readonly dir: string,
    init: {
      url: string;
      caPem: string;
      admin: ClusterUser;
      reader: ClusterUser;
      sandboxReader: ClusterUser;
      certAdmin: ClusterUser;
      etcd: ChildProcess;
      apiserver: ChildProcess;
      apiserverArgs: string[];
    },
  ) {
    this.url = init.url;
    this.caPem = init.caPem;
    this.admin = init.admin;
    this.reader = init.reader;
    this.sandboxReader = init.sandboxReader;
    this.certAdmin = init.certAdmin;
    this.etcd = init.etcd;
    this.apiserver = init.apiserver;
    this.apiserverArgs = init.apiserverArgs;
  }

  /** The binaries dir from REFWATCH_KUBE_BIN (set by `npm run test:e2e`), or undefined. */
  static binDirFromEnv(): string | undefined {
    const dir = process.env.REFWATCH_KUBE_BIN;
    return dir && existsSync(path.join(dir, 'kube-apiserver')) && existsSync(path.join(dir, 'etcd')) ? dir : undefined;
  }

  static async start(binDir: string): Promise<RealCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'refwatch-e2e-'));
    const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
    const adminToken = randomBytes(16).toString('hex');
    const readerToken = randomBytes(16).toString('hex');
    const sandboxReaderToken = randomBytes(16).toString('hex');
    writeFileSync(
      path.join(dir, 'tokens.csv'),
      `${adminToken},admin,admin-uid,system:masters\n${readerToken},reader,reader-uid\n${sandboxReaderToken},sandbox-reader,sandbox-reader-uid\n`,
    );
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(path.join(dir, 'sa.key'), privateKey);
    const clientCerts = await generateClientCertificates({ name: 'cert-admin', groups: ['system:masters'] });
    writeFileSync(path.join(dir, 'client-ca.crt'), clientCerts.caPem);

    const etcd = launch(
      path.join(binDir, 'etcd'),
      [
        '--name=e2e',
        `--data-dir=${path.join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      path.join(dir, 'etcd.log'),
    );
    let apiserver: ChildProcess | undefined;
    try {
      await waitFor(`etcd on port ${etcdClient}`, () => httpStatus(`http://127.0.0.1:${etcdClient}/health`).then((s) => s === 200), etcd, path.join(dir, 'etcd.log'));
      const apiserverArgs = [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${apiPort}`,
        `--cert-dir=${path.join(dir, 'pki')}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        `--service-account-issuer=https://127.0.0.1:${apiPort}`,
        `--service-account-key-file=${path.join(dir, 'sa.key')}`,
        `--service-account-signing-key-file=${path.join(dir, 'sa.key')}`,
        `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
        `--client-ca-file=${path.join(dir, 'client-ca.crt')}`,
        '--authorization-mode=RBAC',
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--endpoint-reconciler-type=none',
      ];
      apiserver = launch(path.join(binDir, 'kube-apiserver'), apiserverArgs, path.join(dir, 'apiserver.log'));
      const url = `https://127.0.0.1:${apiPort}`;
      const certFile = path.join(dir, 'pki', 'apiserver.crt');
      await waitFor(
        'kube-apiserver /readyz',
        async () => existsSync(certFile) && (await httpsStatus(`${url}/readyz`, readFileSync(certFile, 'utf8'), adminToken)) === 200,
        apiserver,
        path.join(dir, 'apiserver.log'),
      );
      // apiserver.crt holds the serving certificate followed by its self-signed CA.
      const caPem = readFileSync(certFile, 'utf8');
      await waitFor(
        'the default namespace',
        async () => (await httpsStatus(`${url}/api/v1/namespaces/default`, caPem, adminToken)) === 200,
        apiserver,
        path.join(dir, 'apiserver.log'),
      );
      const admin = writeUser(dir, url, caPem, 'admin', { token: adminToken });
      const reader = writeUser(dir, url, caPem, 'reader', { token: readerToken });
      const sandboxReader = writeUser(dir, url, caPem, 'sandbox-reader', { token: sandboxReaderToken });
      const certAdmin = writeUser(dir, url, caPem, 'cert-admin', {
        'client-certificate-data': Buffer.from(clientCerts.certPem).toString('base64'),
        'client-key-data': Buffer.from(clientCerts.keyPem).toString('base64'),
      });
      const cluster = new RealCluster(binDir, dir, { url, caPem, admin, reader, sandboxReader, certAdmin, etcd, apiserver, apiserverArgs });
      return cluster;
    } catch (err) {
      await stopProcess(apiserver);
      await stopProcess(etcd);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Stops kube-apiserver (etcd keeps running), then starts it again on the same port and waits until it is ready. */
  async restartApiserver(downMs = 0): Promise<void> {
    await stopProcess(this.apiserver);
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.apiserver = launch(path.join(this.binDir, 'kube-apiserver'), this.apiserverArgs, path.join(this.dir, 'apiserver.log'));
    await waitFor(
      'kube-apiserver /readyz after restart',
      async () => (await httpsStatus(`${this.url}/readyz`, this.caPem, this.admin.token)) === 200,
      this.apiserver,
      path.join(this.dir, 'apiserver.log'),
    );
  }

  /** The running kube-apiserver's pid (a new one after restartApiserver): benchmarks read its memory. */
  get apiserverPid(): number | undefined {
    return this.apiserver?.pid;
  }

  /** The apiserver's /metrics text (admin). */
  async metrics(): Promise<string> {
    return httpsGet(`${this.url}/metrics`, this.caPem, this.admin.token);
  }

  /**
   * Watches of one resource (e.g. "secrets") open on the server now: the
   * apiserver_longrunning_requests gauge for verb WATCH, summed over scopes.
   * (apiserver_registered_watchers, which older releases had, is gone in 1.36.)
   */
  async openWatches(resource: string): Promise<number> {
    const text = await this.metrics();
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('apiserver_longrunning_requests{') && line.includes(`resource="${resource}"`) && line.includes('verb="WATCH"')) {
        total += Number(line.split(' ').pop());
      }
    }
    return total;
  }

  async stop(): Promise<void> {
    await stopProcess(this.apiserver);
    await stopProcess(this.etcd);
    this.apiserver = this.etcd = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every child process started and not yet exited: killed if the test process dies without stop(). */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
});

function writeUser(dir: string, server: string, caPem: string, name: string, credentials: Record<string, string>): ClusterUser {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'e2e', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name, user: credentials }],
    contexts: [{ name: `${name}@e2e`, context: { cluster: 'e2e', user: name } }],
    'current-context': `${name}@e2e`,
  };
  const kubeconfigPath = path.join(dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfigPath, JSON.stringify(config, null, 2));
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromFile(kubeconfigPath);
  return { name, token: credentials.token ?? '', kubeconfig, kubeconfigPath };
}

function launch(binary: string, args: string[], logFile: string): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, logFile: string): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < START_TIMEOUT_MS) {
    if (child.exitCode !== null) throw new Error(`${what}: the process exited with code ${child.exitCode}\n${tail(logFile)}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not ready after ${START_TIMEOUT_MS / 1000} s\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, async () => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      return s;
    }),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(2_000, () => req.destroy(new Error('timeout')));
  });
}

function httpsStatus(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
  });
}

function httpsGet(url: string, ca: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
