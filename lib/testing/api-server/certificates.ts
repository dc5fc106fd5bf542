/**
 * Certificates for the embedded API server's TLS listener. node:crypto makes keys but cannot
 * issue X.509 certificates, so node-forge builds them: a throwaway CA, and a serving
 * certificate it signs for every name a client on this machine may dial (127.0.0.1, ::1,
 * localhost). Clients trust the CA (`caPem`), exactly as they trust a cluster's CA from a
 * kubeconfig, so hostname verification stays on.
 */
import { generateKeyPair, randomBytes, sign as cryptoSign } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** A CA and the serving certificate it issued, PEM-encoded. */
export interface ServingCertificates {
  /** The CA to trust (kubeconfig `certificate-authority-data`). */
  caPem: string;
  /** The serving certificate the server presents (without the CA, which clients already hold). */
  certPem: string;
  /** The serving certificate's private key. */
  keyPem: string;
}

/** What goes into the serving certificate, and how long it lasts. */
export interface CertificateOptions {
  /** DNS names in the serving certificate. Default ["localhost"]. */
  dnsNames?: string[];
  /** IP addresses in the serving certificate. Default ["127.0.0.1", "::1"]. */
  ipAddresses?: string[];
  /**
   * How long both certificates stay valid. Default one day: long enough for any test run or
   * demo, short enough that a leaked CA from a temp kubeconfig is worthless soon.
   */
  validForMs?: number;
}

const DEFAULT_VALIDITY_MS = 24 * 60 * 60 * 1000;

/**
 * Validity starts this far in the past, so a client whose clock is slightly behind still
 * accepts the certificate (the same hour of slack kubeadm and cert-manager give).
 */
const BACKDATE_MS = 60 * 60 * 1000;

/**
 * RSA 2048: what kubeadm issues, and the only key type node-forge builds certificates for.
 * Keys come from node:crypto (native, in the thread pool) rather than forge's pure-JS generator
 * (seconds), and node:crypto also computes the signatures (forge's pure-JS RSA takes ~90 ms
 * per signature); forge only lays out the certificate.
 */
const RSA_BITS = 2048;

const generateRsa = promisify(generateKeyPair);

/**
 * Issues a fresh CA and serving certificate. Validity uses the wall clock, never an injected
 * Clock: the peer verifies it against real time.
 */
export async function generateServingCertificates(opts: CertificateOptions = {}): Promise<ServingCertificates> {
  const [caKeys, serverKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const validity = validityFor(opts.validForMs);
  const ca = selfSignedCa('refwatch-embedded-ca', caKeys, validity);
  const altNames = [...(opts.dnsNames ?? ['localhost']).map((value) => ({ type: 2, value })), ...(opts.ipAddresses ?? ['127.0.0.1', '::1']).map((ip) => ({ type: 7, ip }))];
  const cert = issuedBy(
    ca,
    caKeys.privateKeyPem,
    serverKeys.publicKey,
    validity,
    [{ name: 'commonName', value: 'refwatch-embedded-apiserver' }],
    [
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  );
  return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(cert), keyPem: serverKeys.privateKeyPem };
}

/** A client certificate and the CA that signed it (for an API server's --client-ca-file). */
export interface ClientCertificates {
  /** The client CA, for the server to trust (--client-ca-file). */
  caPem: string;
  /** The client certificate (kubeconfig `client-certificate-data`). */
  certPem: string;
  /** Its private key (kubeconfig `client-key-data`). */
  keyPem: string;
}

/**
 * Issues a fresh client CA and a client certificate for a Kubernetes user: the common name is
 * the user name and each organization a group, as kube-apiserver reads x509 client certs.
 */
export async function generateClientCertificates(user: { name: string; groups?: string[]; validForMs?: number }): Promise<ClientCertificates> {
  const [caKeys, clientKeys] = await Promise.all([rsaKeyPair(), rsaKeyPair()]);
  const validity = validityFor(user.validForMs);
  const ca = selfSignedCa('refwatch-client-ca', caKeys, validity);
  const subject = [{ name: 'commonName', value: user.name }, ...(user.groups ?? []).map((value) => ({ name: 'organizationName', value }))];
  const cert = issuedBy(ca, caKeys.privateKeyPem, clientKeys.publicKey, validity, subject, [{ name: 'extKeyUsage', clientAuth: true }]);
  return { caPem: forge.pki.certificateToPem(ca), certPem: forge.pki.certificateToPem(cert), keyPem: clientKeys.privateKeyPem };
}

interface Validity {
  notBefore: Date;
  notAfter: Date;
}

function validityFor(validForMs = DEFAULT_VALIDITY_MS): Validity {
  return { notBefore: new Date(Date.now() - BACKDATE_MS), notAfter: new Date(Date.now() + validForMs) };
}

function selfSignedCa(commonName: string, keys: { publicKey: forge.pki.rsa.PublicKey; privateKeyPem: string }, validity: Validity): forge.pki.Certificate {
  const name = [{ name: 'commonName', value: commonName }];
  const ca = forge.pki.createCertificate();
  ca.publicKey = keys.publicKey;
  ca.serialNumber = serialNumber();
  ca.validity.notBefore = validity.notBefore;
  ca.validity.notAfter = validity.notAfter;
  ca.setSubject(name);
  ca.setIssuer(name);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signWithNode(ca, keys.privateKeyPem);
  return ca;
}

/** A leaf certificate signed by `ca`, with the extensions every leaf has plus `extra`. */
function issuedBy(
  ca: forge.pki.Certificate,
  caKeyPem: string,
  publicKey: forge.pki.rsa.PublicKey,
  validity: Validity,
  subject: forge.pki.CertificateField[],
  extra: object[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = validity.notBefore;
  cert.validity.notAfter = validity.notAfter;
  cert.setSubject(subject);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ...extra,
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signWithNode(cert, caKeyPem);
  return cert;
}

async function rsaKeyPair(): Promise<{ publicKey: forge.pki.rsa.PublicKey; privateKeyPem: string }> {
  const { publicKey, privateKey } = await generateRsa('rsa', {
    modulusLength: RSA_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey, privateKeyPem: privateKey };
}

/**
 * Signs with SHA-256/RSA through forge's own `sign` (which sets the algorithm fields and the
 * to-be-signed structure), handing it a signer whose `sign` lets node:crypto compute the
 * signature over that structure's DER.
 */
function signWithNode(cert: forge.pki.Certificate, privateKeyPem: string): void {
  const signer = {
    sign: () => {
      const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), 'binary');
      return cryptoSign('sha256', tbs, privateKeyPem).toString('binary');
    },
  };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
}

/** A random positive 128-bit serial, as RFC 5280 asks (unique per issuer, at most 20 bytes). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}
