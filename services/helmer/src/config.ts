import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  NATS_ENV,
  natsConfig,
  REPLICA_ENV,
  replicaConfig,
  type NatsConfig,
  type ReplicaConfig,
} from "@kubeplus/runtime";

export interface HelmerConfig extends ReplicaConfig {
  readonly nats: NatsConfig;
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly helmBin: string;
  /** The post-render forwarder helm runs (services/helmer/post-render-shim); empty: the one `make build` made. */
  readonly postRenderBin: string;
  readonly chartCacheDir: string;
  readonly chartUrlTtlMs: number;
  readonly ociPlainHttpRegistries: readonly string[];
  readonly renderCacheEntries: number;
  readonly renderTimeoutMs: number;
  readonly workers: number;
  readonly resyncMs: number;
  readonly logLevel: string;
  /** Namespace names no instance may have, beyond the built-in list (@kubeplus/api RESERVED_NAMESPACES). */
  readonly reservedNamespaces: readonly string[];
}

/** Every variable the helmer reads: name, default (undefined = required), meaning. Mirrored in README.md. */
export const HELMER_ENV = {
  ...NATS_ENV,
  KUBECONFIG: { default: "", doc: "kubeconfig file; empty: in-cluster service account" },
  KUBEPLUS_NAMESPACE: {
    default: "kubeplus",
    doc: "namespace KubePlus is installed in (uploaded charts live there)",
  },
  HELM_BIN: { default: "helm", doc: "the pinned helm binary" },
  POST_RENDER_BIN: {
    default: "",
    doc: "the post-render forwarder helm runs; empty: bin/kubeplus-post-render beside the helmer (make build puts it there)",
  },
  CHART_CACHE_DIR: {
    default: join(tmpdir(), "kubeplus-charts"),
    doc: "verified chart archives, by digest",
  },
  CHART_URL_TTL_SECONDS: {
    default: "60",
    doc: "how long a fetched http(s)/oci chart is reused before fetching again",
  },
  OCI_PLAIN_HTTP_REGISTRIES: {
    default: "",
    doc: "OCI registries (host or host:port, comma-separated) pulled over plain HTTP instead of HTTPS",
  },
  RENDER_CACHE_ENTRIES: {
    default: "500",
    doc: "rendered charts kept in memory (by digest, release and values)",
  },
  RENDER_TIMEOUT_SECONDS: { default: "20", doc: "limit for one helm template run" },
  WORKERS: { default: "4", doc: "reconciles run in parallel (one at a time per object)" },
  RESYNC_SECONDS: {
    default: "300",
    doc: "how often a converged instance is checked again (drift: a deleted NetworkPolicy or quota comes back)",
  },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  RESERVED_NAMESPACES: {
    default: "",
    doc: "namespace names (comma-separated) no instance may have, beyond the built-in ones (default, kube-*, monitoring, cert-manager...)",
  },
  ...REPLICA_ENV,
} as const;

function positive(
  env: NodeJS.ProcessEnv,
  name: keyof typeof HELMER_ENV,
  problems: string[],
): number {
  const raw = env[name] ?? HELMER_ENV[name].default ?? "";
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    problems.push(`${name} must be a positive number (got '${raw}')`);
  return value;
}

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): HelmerConfig {
  const problems: string[] = [];
  const config: HelmerConfig = {
    nats: natsConfig(env, "helmer", problems),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: env.KUBEPLUS_NAMESPACE ?? HELMER_ENV.KUBEPLUS_NAMESPACE.default,
    helmBin: env.HELM_BIN ?? HELMER_ENV.HELM_BIN.default,
    postRenderBin: env.POST_RENDER_BIN ?? HELMER_ENV.POST_RENDER_BIN.default,
    chartCacheDir: env.CHART_CACHE_DIR ?? HELMER_ENV.CHART_CACHE_DIR.default,
    chartUrlTtlMs: positive(env, "CHART_URL_TTL_SECONDS", problems) * 1000,
    ociPlainHttpRegistries: (env.OCI_PLAIN_HTTP_REGISTRIES ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean),
    renderCacheEntries: positive(env, "RENDER_CACHE_ENTRIES", problems),
    renderTimeoutMs: positive(env, "RENDER_TIMEOUT_SECONDS", problems) * 1000,
    workers: positive(env, "WORKERS", problems),
    resyncMs: positive(env, "RESYNC_SECONDS", problems) * 1000,
    logLevel: env.LOG_LEVEL ?? HELMER_ENV.LOG_LEVEL.default,
    reservedNamespaces: (env.RESERVED_NAMESPACES ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean),
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid helmer configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
