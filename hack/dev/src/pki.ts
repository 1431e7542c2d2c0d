import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CertificateUsage,
  createCertificateAuthority,
  issueCertificate,
  type KeyPair,
} from "@kubeplus/tls";

/** File paths of the control plane's PKI (PEM files in the run folder). */
export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly frontProxyCaCert: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
  /** `<name>.crt` / `<name>.key` for each issued certificate. */
  readonly cert: (name: string) => string;
  readonly key: (name: string) => string;
}

export function pkiPaths(dir: string): Pki {
  return {
    dir,
    caCert: join(dir, "ca.crt"),
    caKey: join(dir, "ca.key"),
    frontProxyCaCert: join(dir, "front-proxy-ca.crt"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
    cert: (name) => join(dir, `${name}.crt`),
    key: (name) => join(dir, `${name}.key`),
  };
}

/** Subject alternative names of the apiserver's serving certificate: loopback and the in-cluster names. */
export const API_SERVER_DNS_NAMES = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

interface CertSpec {
  readonly name: string;
  readonly commonName: string;
  readonly organizations?: readonly string[];
  readonly usage: CertificateUsage;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly signer?: "ca" | "front-proxy-ca";
}

/** Every certificate the control plane needs, and whom it identifies; the apiserver's serves `kubernetesServiceIp`. */
export function certificates(kubernetesServiceIp: string, kwokNodeIp: string): readonly CertSpec[] {
  return [
    {
      name: "apiserver",
      commonName: "kube-apiserver",
      usage: CertificateUsage.Server,
      dnsNames: API_SERVER_DNS_NAMES,
      ipAddresses: ["127.0.0.1", kubernetesServiceIp],
    },
    {
      name: "admin",
      commonName: "kubernetes-admin",
      organizations: ["system:masters"],
      usage: CertificateUsage.Client,
    },
    {
      name: "apiserver-kubelet-client",
      commonName: "kube-apiserver-kubelet-client",
      organizations: ["system:masters"],
      usage: CertificateUsage.Client,
    },
    { name: "controller-manager", commonName: "system:kube-controller-manager", usage: "client" },
    { name: "scheduler", commonName: "system:kube-scheduler", usage: "client" },
    {
      name: "kwok",
      commonName: "kwok-controller",
      organizations: ["system:masters"],
      usage: CertificateUsage.ServerAndClient,
      dnsNames: ["localhost"],
      // The kwok nodes' InternalIP (a real node's forwarder to kwok when there is one): what their clients verify.
      ipAddresses: [...new Set(["127.0.0.1", kwokNodeIp])],
    },
    {
      name: "front-proxy-client",
      commonName: "front-proxy-client",
      usage: CertificateUsage.Client,
      signer: "front-proxy-ca",
    },
  ];
}

function writePair(pki: Pki, name: string, pair: KeyPair): void {
  writeFileSync(pki.cert(name), pair.certPem);
  writeFileSync(pki.key(name), pair.keyPem, { mode: 0o600 });
}

/** Generates a fresh PKI: cluster CA, front-proxy CA, service-account signing key and every certificate above. */
export async function generatePki(
  dir: string,
  kubernetesServiceIp: string,
  kwokNodeIp: string,
): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pki = pkiPaths(dir);
  const [ca, frontProxyCa, sa] = await Promise.all([
    createCertificateAuthority({ commonName: "kubeplus-dev-ca" }),
    createCertificateAuthority({ commonName: "kubeplus-dev-front-proxy-ca" }),
    promisify(generateKeyPair)("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "pem" },
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
    }),
  ]);
  writePair(pki, "ca", ca);
  writePair(pki, "front-proxy-ca", frontProxyCa);
  writeFileSync(pki.serviceAccountKey, sa.privateKey, { mode: 0o600 });
  writeFileSync(pki.serviceAccountPub, sa.publicKey);
  const specs = certificates(kubernetesServiceIp, kwokNodeIp);
  const issued = await Promise.all(
    specs.map((spec) =>
      issueCertificate({
        ca: spec.signer === "front-proxy-ca" ? frontProxyCa : ca,
        commonName: spec.commonName,
        organizations: spec.organizations ?? [],
        dnsNames: spec.dnsNames ?? [],
        ipAddresses: spec.ipAddresses ?? [],
        usage: spec.usage,
      }),
    ),
  );
  specs.forEach((spec, i) => {
    const pair = issued[i];
    if (pair) writePair(pki, spec.name, pair);
  });
  return pki;
}

/** The cluster CA as a key pair, to sign new client identities. */
export function readClusterCa(pki: Pki): KeyPair {
  return { certPem: readFileSync(pki.caCert, "utf8"), keyPem: readFileSync(pki.caKey, "utf8") };
}

/** A certificate/key pair read back from the PKI folder. */
export function readPair(pki: Pki, name: string): KeyPair {
  return {
    certPem: readFileSync(pki.cert(name), "utf8"),
    keyPem: readFileSync(pki.key(name), "utf8"),
  };
}
