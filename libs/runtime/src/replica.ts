import { hostname } from "node:os";

/** The variables every service reads about the replica it runs as. Spread into each service's own table. */
export const REPLICA_ENV = {
  HEALTH_PORT: {
    default: "8081",
    doc: "plain-HTTP port of /healthz and /readyz (the chart's probes); 0 picks a free port",
  },
  HEALTH_HOST: { default: "0.0.0.0", doc: "address the health endpoints listen on" },
  POD_NAME: {
    default: "",
    doc: "this replica's name in leader election Leases (the chart sets the pod name); empty: host and PID",
  },
} as const;

export interface ReplicaConfig {
  readonly healthPort: number;
  readonly healthHost: string;
  readonly identity: string;
}

const nonEmpty = (value: string | undefined): string | undefined =>
  value === "" ? undefined : value;

/** Reads REPLICA_ENV; problems are added to the caller's list so they are all reported together. */
export function replicaConfig(env: NodeJS.ProcessEnv, problems: string[]): ReplicaConfig {
  const raw = env.HEALTH_PORT ?? REPLICA_ENV.HEALTH_PORT.default;
  const healthPort = Number(raw);
  if (!Number.isInteger(healthPort) || healthPort < 0 || healthPort > 65535)
    problems.push(`HEALTH_PORT must be a port number (got '${raw}')`);
  return {
    healthPort,
    healthHost: env.HEALTH_HOST ?? REPLICA_ENV.HEALTH_HOST.default,
    identity: nonEmpty(env.POD_NAME) ?? `${hostname()}-${String(process.pid)}`,
  };
}
