import { readFileSync } from "node:fs";
import type { KubeletAccess } from "./collector.js";
import {
  NATS_ENV,
  natsConfig,
  positiveNumbers,
  REPLICA_ENV,
  replicaConfig,
  type NatsConfig,
  type ReplicaConfig,
} from "@kubeplus/runtime";

export interface CollectorConfig extends ReplicaConfig {
  readonly nats: NatsConfig;
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly port: number;
  readonly host: string;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly logLevel: string;
  readonly kubeletAccess: KubeletAccess;
}

/** Every variable the metrics-collector reads: default (undefined = required) and meaning. Mirrored in README.md. */
export const COLLECTOR_ENV = {
  ...NATS_ENV,
  KUBECONFIG: { default: "", doc: "kubeconfig file; empty: in-cluster service account" },
  KUBEPLUS_NAMESPACE: {
    default: "kubeplus",
    doc: "namespace KubePlus runs in (its leader election Lease)",
  },
  PORT: { default: "9090", doc: "port of /metrics (Prometheus) and /v1/usage (JSON)" },
  HOST: { default: "0.0.0.0", doc: "address /metrics listens on" },
  INTERVAL_SECONDS: { default: "30", doc: "seconds between collection passes" },
  CONCURRENCY: { default: "16", doc: "apiserver requests a pass makes in parallel" },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  KUBELET_ACCESS: {
    default: "direct",
    doc: "direct: to each node's InternalIP and kubelet port, as metrics-server does (needs nodes/metrics and nodes/stats get); proxy: kubelets through the apiserver's node proxy (needs nodes/proxy get: provider-kubeconfig create --kubelet-proxy)",
  },
  KUBELET_CA_FILE: {
    default: "",
    doc: "direct: CA bundle that signed the kubelets' serving certificates",
  },
  KUBELET_INSECURE_TLS: {
    default: "false",
    doc: "direct: do not verify kubelet certificates (metrics-server's --kubelet-insecure-tls); not for production",
  },
  ...REPLICA_ENV,
} as const;

function portOf(env: NodeJS.ProcessEnv, problems: string[]): number {
  const raw = env.PORT ?? COLLECTOR_ENV.PORT.default;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT must be a port number (got '${raw}')`);
  return port;
}

function kubeletAccess(env: NodeJS.ProcessEnv, problems: string[]): KubeletAccess {
  const mode = env.KUBELET_ACCESS ?? COLLECTOR_ENV.KUBELET_ACCESS.default;
  if (mode === "proxy") return { mode };
  if (mode !== "direct") {
    problems.push(`KUBELET_ACCESS must be 'proxy' or 'direct' (got '${mode}')`);
    return { mode: "proxy" };
  }
  const caFile = env.KUBELET_CA_FILE ?? "";
  let ca: string | undefined;
  try {
    ca = caFile ? readFileSync(caFile, "utf8") : undefined;
  } catch {
    problems.push(`KUBELET_CA_FILE cannot be read: ${caFile}`);
  }
  return { mode, ...(ca ? { ca } : {}), insecure: env.KUBELET_INSECURE_TLS === "true" };
}

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): CollectorConfig {
  const problems: string[] = [];
  const positive = positiveNumbers(env, COLLECTOR_ENV, problems);
  const config: CollectorConfig = {
    nats: natsConfig(env, "metrics-collector", problems),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: env.KUBEPLUS_NAMESPACE ?? COLLECTOR_ENV.KUBEPLUS_NAMESPACE.default,
    port: portOf(env, problems),
    host: env.HOST ?? COLLECTOR_ENV.HOST.default,
    intervalMs: positive("INTERVAL_SECONDS") * 1000,
    concurrency: positive("CONCURRENCY"),
    logLevel: env.LOG_LEVEL ?? COLLECTOR_ENV.LOG_LEVEL.default,
    kubeletAccess: kubeletAccess(env, problems),
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid metrics-collector configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
