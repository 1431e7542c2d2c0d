import { REPLICA_ENV, replicaConfig, type ReplicaConfig } from "@kubeplus/runtime";

export interface GeneratorConfig extends ReplicaConfig {
  readonly natsUrl: string;
  readonly kubeconfig?: string;
  readonly namespace: string;
  /** The API server URL written into kubeconfigs (empty: the one this service talks to). */
  readonly publicServerUrl?: string;
  readonly consumerTokenSeconds: number;
  readonly checkMs: number;
  readonly logLevel: string;
}

/** Every variable the kubeconfig-generator reads: name, default (undefined = required), meaning. Mirrored in README.md. */
export const GENERATOR_ENV = {
  NATS_URL: { default: undefined, doc: "NATS server URL(s), comma-separated" },
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
  CHECK_SECONDS: { default: "60", doc: "how often the built-in consumer kubeconfig is checked" },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  ...REPLICA_ENV,
} as const;

function positive(
  env: NodeJS.ProcessEnv,
  name: keyof typeof GENERATOR_ENV,
  problems: string[],
): number {
  const raw = env[name] ?? GENERATOR_ENV[name].default ?? "";
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    problems.push(`${name} must be a positive whole number (got '${raw}')`);
  return value;
}

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): GeneratorConfig {
  const problems: string[] = [];
  const natsUrl = env.NATS_URL ?? "";
  if (!natsUrl) problems.push("NATS_URL is required (e.g. nats://nats.kubeplus.svc:4222)");
  const consumerTokenSeconds = positive(env, "CONSUMER_TOKEN_SECONDS", problems);
  if (consumerTokenSeconds < 600) problems.push("CONSUMER_TOKEN_SECONDS must be at least 600");
  const config: GeneratorConfig = {
    natsUrl,
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: env.KUBEPLUS_NAMESPACE ?? GENERATOR_ENV.KUBEPLUS_NAMESPACE.default,
    ...(env.PUBLIC_SERVER_URL ? { publicServerUrl: env.PUBLIC_SERVER_URL } : {}),
    consumerTokenSeconds,
    checkMs: positive(env, "CHECK_SECONDS", problems) * 1000,
    logLevel: env.LOG_LEVEL ?? GENERATOR_ENV.LOG_LEVEL.default,
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid kubeconfig-generator configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
