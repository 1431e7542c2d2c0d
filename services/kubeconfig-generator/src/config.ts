import {
  NATS_ENV,
  natsConfig,
  positiveNumbers,
  REPLICA_ENV,
  replicaConfig,
  type NatsConfig,
  type ReplicaConfig,
} from "@kubeplus/runtime";

export interface GeneratorConfig extends ReplicaConfig {
  readonly nats: NatsConfig;
  readonly kubeconfig?: string;
  readonly namespace: string;
  /** The API server URL written into kubeconfigs (empty: the one this service talks to). */
  readonly publicServerUrl?: string;
  readonly consumerTokenSeconds: number;
  /** The longest token a `generate` request may ask for. */
  readonly maxTokenSeconds: number;
  readonly checkMs: number;
  readonly logLevel: string;
}

/** No kubeconfig the generator issues lives longer than this, whatever its configuration (the request schema's maximum). */
export const TOKEN_SECONDS_CEILING = 7_776_000;

/** Every variable the kubeconfig-generator reads: name, default (undefined = required), meaning. Mirrored in README.md. */
export const GENERATOR_ENV = {
  ...NATS_ENV,
  KUBECONFIG: { default: "", doc: "kubeconfig file; empty: in-cluster service account" },
  KUBEPLUS_NAMESPACE: {
    default: "kubeplus",
    doc: "namespace KubePlus is installed in (the built-in consumer lives there)",
  },
  PUBLIC_SERVER_URL: {
    default: "",
    doc: "API server URL written into kubeconfigs; empty: the URL this service uses",
  },
  CONSUMER_TOKEN_SECONDS: {
    default: "2592000",
    doc: "lifetime of consumer tokens (30 days); the built-in one is renewed when less than a fifth remains",
  },
  MAX_TOKEN_SECONDS: {
    default: "2592000",
    doc: "the longest token lifetime a kubeconfig request may ask for (30 days; at most 7776000, 90 days)",
  },
  CHECK_SECONDS: { default: "60", doc: "how often the built-in consumer kubeconfig is checked" },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  ...REPLICA_ENV,
} as const;

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): GeneratorConfig {
  const problems: string[] = [];
  const positive = positiveNumbers(env, GENERATOR_ENV, problems);
  const consumerTokenSeconds = positive("CONSUMER_TOKEN_SECONDS", { integer: true });
  if (consumerTokenSeconds < 600) problems.push("CONSUMER_TOKEN_SECONDS must be at least 600");
  const maxTokenSeconds = positive("MAX_TOKEN_SECONDS", { integer: true });
  if (maxTokenSeconds < 600 || maxTokenSeconds > TOKEN_SECONDS_CEILING)
    problems.push(
      `MAX_TOKEN_SECONDS must be between 600 and ${String(TOKEN_SECONDS_CEILING)} (90 days; got ${String(maxTokenSeconds)})`,
    );
  if (consumerTokenSeconds > maxTokenSeconds)
    problems.push(
      `CONSUMER_TOKEN_SECONDS (${String(consumerTokenSeconds)}) must not exceed MAX_TOKEN_SECONDS (${String(maxTokenSeconds)})`,
    );
  const config: GeneratorConfig = {
    nats: natsConfig(env, "kubeconfig-generator", problems),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: env.KUBEPLUS_NAMESPACE ?? GENERATOR_ENV.KUBEPLUS_NAMESPACE.default,
    ...(env.PUBLIC_SERVER_URL ? { publicServerUrl: env.PUBLIC_SERVER_URL } : {}),
    consumerTokenSeconds,
    maxTokenSeconds,
    checkMs: positive("CHECK_SECONDS", { integer: true }) * 1000,
    logLevel: env.LOG_LEVEL ?? GENERATOR_ENV.LOG_LEVEL.default,
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid kubeconfig-generator configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
