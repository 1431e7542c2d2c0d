import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateUsage, issueCertificate } from "@kubeplus/tls";
import type { ClusterState } from "./cluster.js";
import { buildKubeconfig } from "./kubeconfig.js";
import { runLayout } from "./paths.js";
import { pkiPaths, readClusterCa } from "./pki.js";

export interface IdentityOptions {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly namespace?: string;
}

/**
 * Mints a non-admin identity: a client certificate (CN = user, O = groups) signed by the cluster CA, written as a
 * kubeconfig under the run folder. It has no permissions until RBAC grants some.
 */
export async function mintIdentity(state: ClusterState, options: IdentityOptions): Promise<string> {
  const layout = runLayout(state.runDir);
  const ca = readClusterCa(pkiPaths(layout.pki));
  const pair = await issueCertificate({
    ca,
    commonName: options.user,
    organizations: options.groups ?? [],
    usage: CertificateUsage.Client,
    validityDays: 7,
  });
  const file = join(
    layout.identities,
    `${options.user.replace(/[^a-zA-Z0-9_.-]/g, "_")}.kubeconfig`,
  );
  writeFileSync(
    file,
    buildKubeconfig({
      server: state.apiServerUrl,
      caPem: ca.certPem,
      user: options.user,
      certPem: pair.certPem,
      keyPem: pair.keyPem,
      ...(options.namespace ? { namespace: options.namespace } : {}),
    }),
    { mode: 0o600 },
  );
  return file;
}
