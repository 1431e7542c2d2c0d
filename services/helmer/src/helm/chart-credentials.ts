import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";

/** How long a chart identity's token lives (the TokenRequest API's minimum is 10 minutes). */
const TOKEN_SECONDS = 3_600;
/** A token is renewed once less than this is left, so that no helm run starts on a token about to expire. */
const RENEW_BEFORE_MS = 20 * 60_000;

interface Issued {
  readonly path: string;
  readonly expiresAt: number;
}

interface ClusterFacts {
  readonly server: string;
  readonly caData?: string;
  readonly tlsServerName?: string;
  readonly insecure: boolean;
}

/** A kubeconfig that holds nothing but the server, its CA, the namespace and one bearer token. */
export function chartKubeconfig(cluster: ClusterFacts, namespace: string, token: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "cluster",
        cluster: {
          server: cluster.server,
          ...(cluster.caData ? { "certificate-authority-data": cluster.caData } : {}),
          ...(cluster.tlsServerName ? { "tls-server-name": cluster.tlsServerName } : {}),
          ...(cluster.insecure ? { "insecure-skip-tls-verify": true } : {}),
        },
      },
    ],
    users: [{ name: "chart", user: { token } }],
    contexts: [{ name: "chart", context: { cluster: "cluster", user: "chart", namespace } }],
    "current-context": "chart",
  });
}

/**
 * Credentials for helm, per instance namespace: a kubeconfig file (mode 0600, in the helmer's private folder) with a
 * short-lived token of the namespace's chart ServiceAccount, requested through the TokenRequest API. Helm never sees
 * the helmer's own kubeconfig or identity, so a chart's `lookup`, hooks and objects can do nothing outside the
 * instance's namespace.
 */
export interface ChartCredentialsOptions {
  readonly kc: KubeConfig;
  /** A folder only this process can read (0700). */
  readonly dir: string;
  readonly serviceAccount: string;
  readonly now?: () => number;
}

export class ChartCredentials {
  private readonly issued = new Map<string, Issued>();
  private readonly pending = new Map<string, Promise<string>>();
  private cluster?: ClusterFacts;
  /** Each kubeconfig gets a file of its own: removing an old one never removes its successor. */
  private serial = 0;
  private readonly options: ChartCredentialsOptions;

  constructor(options: ChartCredentialsOptions) {
    this.options = options;
  }

  /** The path of a kubeconfig for helm acting in `namespace`, renewed when its token nears expiry. */
  kubeconfigFor(namespace: string): Promise<string> {
    const now = this.options.now?.() ?? Date.now();
    const current = this.issued.get(namespace);
    if (current && current.expiresAt - now > RENEW_BEFORE_MS) return Promise.resolve(current.path);
    const inFlight = this.pending.get(namespace);
    if (inFlight) return inFlight;
    const issuing = this.issue(namespace).finally(() => this.pending.delete(namespace));
    this.pending.set(namespace, issuing);
    return issuing;
  }

  /** Forgets a namespace's credentials (its namespace is gone, or its token was refused). */
  async forget(namespace: string): Promise<void> {
    const current = this.issued.get(namespace);
    this.issued.delete(namespace);
    if (current) await rm(current.path, { force: true });
  }

  private async clusterFacts(): Promise<ClusterFacts> {
    if (this.cluster) return this.cluster;
    const c = this.options.kc.getCurrentCluster();
    if (!c) throw new Error("the helmer's kubeconfig has no current cluster");
    const caData =
      c.caData ?? (c.caFile ? (await readFile(c.caFile)).toString("base64") : undefined);
    this.cluster = {
      server: c.server,
      ...(caData ? { caData } : {}),
      ...(c.tlsServerName ? { tlsServerName: c.tlsServerName } : {}),
      insecure: c.skipTLSVerify,
    };
    return this.cluster;
  }

  private async issue(namespace: string): Promise<string> {
    const sa = this.options.serviceAccount;
    const reply = (await kubeRequest(
      this.options.kc,
      "POST",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
      {
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: TOKEN_SECONDS },
        },
      },
    )) as { status?: { token?: string; expirationTimestamp?: string } };
    const token = reply.status?.token;
    if (!token) throw new Error(`no token was issued for ServiceAccount ${namespace}/${sa}`);
    const expiresAt = Date.parse(reply.status?.expirationTimestamp ?? "") || Date.now();
    this.serial += 1;
    const path = join(this.options.dir, `${namespace}.${this.serial}.kubeconfig`);
    await writeFile(path, chartKubeconfig(await this.clusterFacts(), namespace, token), {
      mode: 0o600,
    });
    const previous = this.issued.get(namespace);
    this.issued.set(namespace, { path, expiresAt });
    // Helm reads its kubeconfig as it starts: a renewal, 20 minutes before expiry, removes no file in use.
    if (previous) await rm(previous.path, { force: true });
    return path;
  }
}
