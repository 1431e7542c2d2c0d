import { X509Certificate } from "node:crypto";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { isConflict, isNotFound } from "@kubeplus/kube";
import {
  CertificateUsage,
  certificateExpiry,
  createCertificateAuthority,
  issueCertificate,
  needsRenewal,
  type KeyPair,
} from "@kubeplus/tls";

/** The webhook's CA and serving certificate, as stored in its Secret. */
export interface ServingMaterial {
  readonly ca: KeyPair;
  readonly serving: KeyPair;
}

export interface ServingCertOptions {
  readonly namespace: string;
  readonly secretName: string;
  /** DNS names the apiserver may dial: `<service>.<namespace>.svc` and, locally, `localhost`. */
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
  /** Renew the serving certificate when it expires within this window (and the CA a year before its end). */
  readonly renewBeforeMs: number;
  readonly validityDays: number;
}

const DAY = 24 * 60 * 60 * 1000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const unb64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString();

function fromSecret(secret: V1Secret): ServingMaterial | undefined {
  const d = secret.data ?? {};
  if (!d["tls.crt"] || !d["tls.key"] || !d["ca.crt"] || !d["ca.key"]) return undefined;
  return {
    ca: { certPem: unb64(d["ca.crt"]), keyPem: unb64(d["ca.key"]) },
    serving: { certPem: unb64(d["tls.crt"]), keyPem: unb64(d["tls.key"]) },
  };
}

function toSecret(
  options: ServingCertOptions,
  material: ServingMaterial,
  resourceVersion?: string,
): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: {
      name: options.secretName,
      namespace: options.namespace,
      labels: {
        "app.kubernetes.io/managed-by": "kubeplus",
        "app.kubernetes.io/component": "crd-hook",
      },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data: {
      "tls.crt": b64(material.serving.certPem),
      "tls.key": b64(material.serving.keyPem),
      "ca.crt": b64(material.ca.certPem),
      "ca.key": b64(material.ca.keyPem),
    },
  };
}

/** True when the certificate names every host and IP the webhook is reached at (a new name forces a new certificate). */
function coversNames(certPem: string, options: ServingCertOptions): boolean {
  const cert = new X509Certificate(certPem);
  return (
    options.dnsNames.every((n) => cert.checkHost(n, { subject: "never" }) === n) &&
    options.ipAddresses.every((ip) => cert.checkIP(ip) === ip)
  );
}

async function issue(options: ServingCertOptions, ca?: KeyPair): Promise<ServingMaterial> {
  const authority =
    ca ??
    (await createCertificateAuthority({ commonName: "kubeplus-crd-hook-ca", validityDays: 3650 }));
  const serving = await issueCertificate({
    ca: authority,
    commonName: options.dnsNames[0] ?? "crd-hook",
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    usage: CertificateUsage.Server,
    validityDays: options.validityDays,
  });
  return { ca: authority, serving };
}

async function readSecret(
  core: CoreV1Api,
  options: ServingCertOptions,
): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({
      name: options.secretName,
      namespace: options.namespace,
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

function isCurrent(
  current: ServingMaterial | undefined,
  options: ServingCertOptions,
  now: Date,
): boolean {
  return (
    !!current &&
    !needsRenewal(current.serving, current.ca.certPem, options.renewBeforeMs, now) &&
    coversNames(current.serving.certPem, options)
  );
}

/** The stored CA when it has more than a year left: a renewed certificate keeps the CA clients trust. */
function reusableCa(current: ServingMaterial | undefined, now: Date): KeyPair | undefined {
  if (!current) return undefined;
  return certificateExpiry(current.ca.certPem).getTime() - now.getTime() > 365 * DAY
    ? current.ca
    : undefined;
}

/** Creates the Secret, or replaces it when the body names the resourceVersion it read. */
async function storeSecret(
  core: CoreV1Api,
  options: ServingCertOptions,
  body: V1Secret,
): Promise<void> {
  if (body.metadata?.resourceVersion)
    await core.replaceNamespacedSecret({
      name: options.secretName,
      namespace: options.namespace,
      body,
    });
  else await core.createNamespacedSecret({ namespace: options.namespace, body });
}

/**
 * Returns the webhook's certificate from its Secret, creating or renewing it when it is missing, about to expire,
 * or not issued by the stored CA. State lives in the cluster, so a restarted crd-hook serves the same certificate.
 */
export async function ensureServingCertificate(
  core: CoreV1Api,
  options: ServingCertOptions,
  now: Date = new Date(),
  attempt = 1,
): Promise<{ material: ServingMaterial; rotated: boolean }> {
  const existing = await readSecret(core, options);
  const current = existing ? fromSecret(existing) : undefined;
  if (current && isCurrent(current, options, now)) return { material: current, rotated: false };
  const material = await issue(options, reusableCa(current, now));
  try {
    await storeSecret(
      core,
      options,
      toSecret(options, material, existing?.metadata?.resourceVersion),
    );
  } catch (err) {
    // Another replica created or renewed the Secret first (both started at once): use what it stored, which is
    // current (its write was checked the same way), so that every replica serves the same certificate.
    if (!isConflict(err) || attempt >= 3) throw err;
    return ensureServingCertificate(core, options, now, attempt + 1);
  }
  return { material, rotated: true };
}
