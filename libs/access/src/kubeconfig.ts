/** What a generated kubeconfig is made of. */
export interface KubeconfigParts {
  /** The API server as the holder will reach it. */
  readonly server: string;
  /** PEM of the cluster CA: the holder verifies the server (never `insecure-skip-tls-verify`). */
  readonly caPem: string;
  readonly token: string;
  /** The ServiceAccount the token belongs to (the user entry's name). */
  readonly user: string;
  /** Name of the cluster and context entries. */
  readonly clusterName: string;
  /** The namespace set in the context. */
  readonly namespace: string;
}

export interface Kubeconfig {
  apiVersion: "v1";
  kind: "Config";
  clusters: { name: string; cluster: { server: string; "certificate-authority-data": string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace: string } }[];
  "current-context": string;
}

/** Prefixes `https://` when the URL names no scheme (the original's `-s` accepted a bare host:port). */
export function normalizeServerUrl(server: string): string {
  const trimmed = server.trim().replace(/\/+$/, "");
  return /^https?:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`;
}

/** The kubeconfig of a ServiceAccount token (the original's JSON shape, with the CA embedded). */
export function buildKubeconfig(parts: KubeconfigParts): Kubeconfig {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: parts.clusterName,
        cluster: {
          server: normalizeServerUrl(parts.server),
          "certificate-authority-data": Buffer.from(parts.caPem).toString("base64"),
        },
      },
    ],
    users: [{ name: parts.user, user: { token: parts.token } }],
    contexts: [
      {
        name: parts.clusterName,
        context: { cluster: parts.clusterName, user: parts.user, namespace: parts.namespace },
      },
    ],
    "current-context": parts.clusterName,
  };
}

/** The same kubeconfig pointed at another server (`kubectl retrieve kubeconfig -s`). */
export function withServer(config: Kubeconfig, server: string): Kubeconfig {
  return {
    ...config,
    clusters: config.clusters.map((c) => ({
      ...c,
      cluster: { ...c.cluster, server: normalizeServerUrl(server) },
    })),
  };
}

/**
 * The longest token lifetime issued, per identity: a year for the provider (its default), 90 days for a consumer
 * (the kubeconfig-generator's own ceiling). A bound token cannot be revoked on its own, only with its ServiceAccount,
 * so a leaked kubeconfig must expire within a rotation period; renew with `provider-kubeconfig extract`.
 */
export const MAX_TOKEN_SECONDS = { provider: 365 * 86_400, consumer: 90 * 86_400 } as const;

/** Why a token of this lifetime is not issued to this kind of identity, or undefined when it may be. */
export function tokenLifetimeProblem(
  entity: keyof typeof MAX_TOKEN_SECONDS,
  seconds: number,
): string | undefined {
  const max = MAX_TOKEN_SECONDS[entity];
  if (seconds <= max) return undefined;
  const days = (s: number): string => `${String(Math.round((s / 86_400) * 10) / 10)} days`;
  const who = entity === "provider" ? "the provider" : "a consumer";
  return `a token of ${days(seconds)} is too long: the maximum token lifetime for ${who} is ${String(max / 3600)}h (${days(max)}); ask for that or less, and renew it with provider-kubeconfig extract before it expires`;
}

/** Durations as the CLI takes them: `8760h`, `90d`, `30m`, or plain seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new Error(`invalid duration "${text}": use a number with s, m, h or d (e.g. 8760h)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? "s") as "s" | "m" | "h" | "d"];
  const seconds = Number(match[1]) * unit;
  if (seconds < 600) throw new Error(`duration "${text}" is too short: tokens last at least 10m`);
  return seconds;
}
