import {
  constants,
  generateKeyPair,
  privateEncrypt,
  randomBytes,
  X509Certificate,
} from "node:crypto";
import { promisify } from "node:util";
import forge from "node-forge";

/** A PEM-encoded certificate and its private key. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** What a certificate may be used for (extended key usage). */
export const CertificateUsage = {
  Server: "server",
  Client: "client",
  ServerAndClient: "server-and-client",
} as const;
export type CertificateUsage = (typeof CertificateUsage)[keyof typeof CertificateUsage];

export interface CertificateAuthorityOptions {
  readonly commonName: string;
  readonly validityDays?: number;
  readonly now?: Date;
}

export interface CertificateOptions {
  readonly ca: KeyPair;
  readonly commonName: string;
  /** Each organization becomes a Kubernetes group for client certificates. */
  readonly organizations?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly usage: CertificateUsage;
  readonly validityDays?: number;
  readonly now?: Date;
}

const DEFAULT_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Backdate validity a little so that small clock skews between processes do not reject a new certificate. */
const BACKDATE_MS = 5 * 60 * 1000;

interface GeneratedKey {
  readonly publicKey: forge.pki.rsa.PublicKey;
  readonly privateKeyPem: string;
}

const generateRsa = promisify(generateKeyPair);

/**
 * RSA keys come from Node's native generator, off the main thread (several certificates generate in parallel);
 * node-forge only builds the certificate structure.
 */
async function newKeyPair(): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateRsa("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    privateKeyPem: privateKey,
  };
}

/** DER prefix of a SHA-256 DigestInfo (RFC 8017 section 9.2). */
const SHA256_DIGEST_INFO = Buffer.from("3031300d060960864801650304020105000420", "hex");

/**
 * A signer with the shape node-forge's `cert.sign` expects, computing RSASSA-PKCS1-v1_5 natively: node-forge's
 * pure-JavaScript RSA takes about a second per signature on a busy 2-core machine; this takes a millisecond.
 */
function nativeSigner(privateKeyPem: string): forge.pki.rsa.PrivateKey {
  const sign = (md: forge.md.MessageDigest): string => {
    const digest = Buffer.from(md.digest().getBytes(), "binary");
    const signature = privateEncrypt(
      { key: privateKeyPem, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA256_DIGEST_INFO, digest]),
    );
    return signature.toString("binary");
  };
  return { sign } as unknown as forge.pki.rsa.PrivateKey;
}

function serialNumber(): string {
  // Positive 128-bit serial in minimal DER: the top bit clear (not negative) and the first byte never zero (a leading
  // zero byte is a non-minimal encoding, which Go's x509 rejects as "malformed serial number": 1 start in 128 failed).
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString("hex");
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** Creates a self-signed certificate authority. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<KeyPair> {
  const keys = await newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, options.now ?? new Date(), options.validityDays ?? DEFAULT_VALIDITY_DAYS * 10);
  const subject = [{ name: "commonName", value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  cert.sign(nativeSigner(keys.privateKeyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

function extendedKeyUsage(usage: CertificateUsage): Record<string, unknown> {
  return {
    name: "extKeyUsage",
    serverAuth: usage !== CertificateUsage.Client,
    clientAuth: usage !== CertificateUsage.Server,
  };
}

/** Issues a certificate signed by `ca`: a serving certificate (SANs) or a client identity (CN = user, O = groups). */
export async function issueCertificate(options: CertificateOptions): Promise<KeyPair> {
  const caCert = forge.pki.certificateFromPem(options.ca.certPem);
  const keys = await newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, options.now ?? new Date(), options.validityDays ?? DEFAULT_VALIDITY_DAYS);
  cert.setSubject([
    ...(options.organizations ?? []).map((value) => ({ name: "organizationName", value })),
    { name: "commonName", value: options.commonName },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(options.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    extendedKeyUsage(options.usage),
    ...(altNames.length > 0 ? [{ name: "subjectAltName", altNames }] : []),
    {
      name: "authorityKeyIdentifier",
      keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes(),
    },
  ]);
  cert.sign(nativeSigner(options.ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privateKeyPem };
}

/** When the certificate stops being valid. */
export function certificateExpiry(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}

/**
 * True when the certificate expires within `renewBeforeMs` of `now` (or already has), or was not issued by `caPem`.
 * Callers rotate in that case.
 */
export function needsRenewal(
  pair: KeyPair,
  caPem: string,
  renewBeforeMs: number,
  now: Date = new Date(),
): boolean {
  const cert = new X509Certificate(pair.certPem);
  if (!cert.verify(new X509Certificate(caPem).publicKey)) return true;
  return new Date(cert.validTo).getTime() - now.getTime() <= renewBeforeMs;
}
