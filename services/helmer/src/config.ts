import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllowList, type AllowEntry } from "@kubeplus/charts";
import {
  NATS_ENV,
  natsConfig,
  positiveNumbers,
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
  /** Restricted addresses the chart fetcher may reach anyway (CHART_FETCH_ALLOW_CIDRS). */
  readonly chartFetchAllow: readonly AllowEntry[];
  /** Renders per caller: this many at once, refilled at renderRatePerMinute. */
  readonly renderBurst: number;
  readonly renderRatePerMinute: number;
  readonly renderCacheEntries: number;
  readonly renderTimeoutMs: number;
  readonly workers: number;
  readonly resyncMs: number;
  readonly logLevel: string;
  /** Namespace names no instance may have, beyond the built-in list (@kubeplus/api RESERVED_NAMESPACES). */
  readonly reservedNamespaces: readonly string[];
  /** The cluster's pod and service CIDRs: instances' egress ipBlocks exclude them. */
  readonly clusterCidrs: readonly string[];
  /** Where a metrics-collector outside the cluster scrapes appEndpoints from (METRICS_COLLECTOR_CIDRS). */
  readonly metricsCollectorCidrs: readonly string[];
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
  CHART_FETCH_ALLOW_CIDRS: {
    default: "",
    doc: "loopback, private, CGNAT, link-local or metadata addresses the chart fetcher may reach anyway: CIDRs or addresses, each optionally with :port, comma-separated (e.g. 10.0.12.0/24,127.0.0.1:8080,[::1]:8080); empty: none",
  },
  RENDER_BURST: {
    default: "30",
    doc: "render requests (kubeplus.v1.helmer.render) one caller may make at once",
  },
  RENDER_RATE_PER_MINUTE: {
    default: "120",
    doc: "render requests one caller may make per minute after its burst",
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
  CLUSTER_CIDRS: {
    default: "",
    doc: "the cluster's pod and service CIDRs (comma-separated); tenants' egress to ipBlocks excludes them, so a 0.0.0.0/0 egress cannot reach other namespaces' pods (KubePlus's NATS and crd-hook among them). Unset: a warning at start, and tenants can reach any pod by address",
  },
  METRICS_COLLECTOR_CIDRS: {
    default: "",
    doc: "addresses (comma-separated CIDRs) the metrics-collector scrapes appEndpoints from when it is not a pod of the KubePlus namespace (make up and the tests run it on the host); instances of a composition with appEndpoints admit them, as they admit the metrics-collector pods of the KubePlus namespace",
  },
  ...REPLICA_ENV,
} as const;

const CIDR =
  /^([0-9]{1,3}(\.[0-9]{1,3}){3}\/([0-9]|[12][0-9]|3[0-2])|[0-9a-fA-F:]+\/([0-9]|[1-9][0-9]|1[01][0-9]|12[0-8]))$/;

function cidrList(text: string, problems: string[], name = "CLUSTER_CIDRS"): string[] {
  const list = text
    .split(",")
    .map((c) => c.trim())
    .filter(Boolean);
  for (const c of list.filter((c) => !CIDR.test(c)))
    problems.push(`${name}: ${c} is not a CIDR such as 198.18.0.0/16 or fd00::/108`);
  return list;
}

function allowList(env: NodeJS.ProcessEnv, problems: string[]): AllowEntry[] {
  try {
    return parseAllowList(env.CHART_FETCH_ALLOW_CIDRS ?? "");
  } catch (err) {
    problems.push(`CHART_FETCH_ALLOW_CIDRS: ${(err as Error).message}`);
    return [];
  }
}

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): HelmerConfig {
  const problems: string[] = [];
  const positive = positiveNumbers(env, HELMER_ENV, problems);
  const config: HelmerConfig = {
    nats: natsConfig(env, "helmer", problems),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: env.KUBEPLUS_NAMESPACE ?? HELMER_ENV.KUBEPLUS_NAMESPACE.default,
    helmBin: env.HELM_BIN ?? HELMER_ENV.HELM_BIN.default,
    postRenderBin: env.POST_RENDER_BIN ?? HELMER_ENV.POST_RENDER_BIN.default,
    chartCacheDir: env.CHART_CACHE_DIR ?? HELMER_ENV.CHART_CACHE_DIR.default,
    chartUrlTtlMs: positive("CHART_URL_TTL_SECONDS") * 1000,
    ociPlainHttpRegistries: (env.OCI_PLAIN_HTTP_REGISTRIES ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean),
    chartFetchAllow: allowList(env, problems),
    renderBurst: positive("RENDER_BURST"),
    renderRatePerMinute: positive("RENDER_RATE_PER_MINUTE"),
    renderCacheEntries: positive("RENDER_CACHE_ENTRIES"),
    renderTimeoutMs: positive("RENDER_TIMEOUT_SECONDS") * 1000,
    workers: positive("WORKERS"),
    resyncMs: positive("RESYNC_SECONDS") * 1000,
    logLevel: env.LOG_LEVEL ?? HELMER_ENV.LOG_LEVEL.default,
    reservedNamespaces: (env.RESERVED_NAMESPACES ?? "")
      .split(",")
      .map((r) => r.trim())
      .filter(Boolean),
    clusterCidrs: cidrList(env.CLUSTER_CIDRS ?? "", problems),
    metricsCollectorCidrs: cidrList(
      env.METRICS_COLLECTOR_CIDRS ?? "",
      problems,
      "METRICS_COLLECTOR_CIDRS",
    ),
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid helmer configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
