import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateUsage, createCertificateAuthority, issueCertificate } from "@kubeplus/tls";
import { repoRoot } from "./paths.js";

/**
 * Every KubePlus identity's NATS permissions, generated from the subject registry (libs/contracts) by `make generate`
 * into the chart, which uses the same file: the local control plane and the chart grant exactly the same rights.
 */
export const NATS_PERMISSIONS_FILE = join(
  repoRoot,
  "deploy",
  "charts",
  "kubeplus",
  "files",
  "nats-permissions.json",
);

type Permissions = Record<string, unknown>;

function readPermissions(): Record<string, Permissions> {
  return JSON.parse(readFileSync(NATS_PERMISSIONS_FILE, "utf8")) as Record<string, Permissions>;
}

/**
 * The local control plane's NATS identities: KubePlus's (services and `provider`, in account KUBEPLUS, with the
 * subject registry's permissions) and `sandbox`, alone in account SANDBOX with JetStream, for the control plane's
 * own JetStream test (an account is a separate subject space: nothing there reaches KubePlus's subjects).
 */
export const SANDBOX_USER = "sandbox";

export function devNatsUsers(): string[] {
  return [...Object.keys(readPermissions()), SANDBOX_USER];
}

/** Files of the NATS PKI in the run folder: a CA of its own (not the cluster's), the server's and one per user. */
export interface NatsAuthFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly config: string;
}

export function natsAuthFiles(dir: string): NatsAuthFiles {
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    serverCert: join(dir, "server.crt"),
    serverKey: join(dir, "server.key"),
    config: join(dir, "nats-server.conf"),
  };
}

/** The client certificate and key of one identity (its subject, `CN=<user>`, is its NATS user). */
export function natsCredentialFiles(
  dir: string,
  user: string,
): { readonly certFile: string; readonly keyFile: string } {
  return { certFile: join(dir, `${user}.crt`), keyFile: join(dir, `${user}.key`) };
}

/** The NATS user a client certificate maps to (`verify_and_map` matches the subject's RFC 2253 form). */
export const natsUserOf = (user: string): string => `CN=${user}`;

export interface NatsServerSettings {
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly files: NatsAuthFiles;
}

/**
 * nats-server's configuration: TLS required, client certificates verified and mapped to users (no anonymous user),
 * each user allowed exactly what the subject registry says.
 */
export function natsServerConfig(s: NatsServerSettings): string {
  const users = Object.entries(readPermissions()).map(([u, permissions]) => ({
    user: natsUserOf(u),
    permissions,
  }));
  const config = {
    listen: `127.0.0.1:${String(s.port)}`,
    http: `127.0.0.1:${String(s.monitorPort)}`,
    server_name: "kubeplus-dev",
    jetstream: { store_dir: s.storeDir },
    tls: {
      cert_file: s.files.serverCert,
      key_file: s.files.serverKey,
      ca_file: s.files.caFile,
      verify_and_map: true,
      timeout: 2,
    },
    accounts: {
      KUBEPLUS: { users },
      SANDBOX: { jetstream: "enabled", users: [{ user: natsUserOf(SANDBOX_USER) }] },
    },
  };
  // nats-server reads JSON as its configuration format.
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Generates the NATS CA, the server's certificate (loopback) and a client certificate per identity. */
export async function generateNatsAuth(dir: string): Promise<NatsAuthFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = natsAuthFiles(dir);
  const users = devNatsUsers();
  const ca = await createCertificateAuthority({ commonName: "kubeplus-dev-nats-ca" });
  const server = issueCertificate({
    ca,
    commonName: "nats-server",
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    usage: CertificateUsage.Server,
  });
  const clients = users.map(async (user) => ({
    user,
    pair: await issueCertificate({ ca, commonName: user, usage: CertificateUsage.Client }),
  }));
  writeFileSync(files.caFile, ca.certPem);
  const serving = await server;
  writeFileSync(files.serverCert, serving.certPem);
  writeFileSync(files.serverKey, serving.keyPem, { mode: 0o600 });
  for (const { user, pair } of await Promise.all(clients)) {
    const { certFile, keyFile } = natsCredentialFiles(dir, user);
    writeFileSync(certFile, pair.certPem);
    writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  }
  return files;
}
