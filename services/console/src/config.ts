import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  positiveNumbers,
  REPLICA_ENV,
  replicaConfig,
  type PositiveReader,
  type ReplicaConfig,
} from "@kubeplus/runtime";

export interface ConsoleConfig extends ReplicaConfig {
  readonly port: number;
  readonly bindAddress: string;
  /** The apiserver every user's request goes to; the URL in an uploaded kubeconfig is never used. */
  readonly apiserverUrl: string;
  readonly apiserverCaFile: string;
  readonly webDir: string;
  readonly secureCookies: boolean;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  readonly logLevel: string;
}

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Every variable the console reads: name, default (undefined = required), meaning. Mirrored in its README. */
export const CONSOLE_ENV = {
  PORT: {
    default: "8080",
    doc: "port of the console (the web app and its /api); 0 picks a free port",
  },
  BIND_ADDRESS: { default: "0.0.0.0", doc: "address the console listens on" },
  CONSOLE_APISERVER_URL: {
    default: "",
    doc: "the apiserver users' requests go to; empty: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT",
  },
  CONSOLE_APISERVER_CA_FILE: {
    default: "/var/run/kubeplus/kube-root-ca/ca.crt",
    doc: "CA bundle of that apiserver (the chart mounts ConfigMap kube-root-ca.crt there)",
  },
  CONSOLE_WEB_DIR: { default: join(packageDir, "dist", "web"), doc: "the built web app" },
  CONSOLE_SECURE_COOKIES: {
    default: "true",
    doc: "mark the session cookie Secure (browsers accept it on https and on http://localhost or 127.0.0.1)",
  },
  CONSOLE_SESSION_IDLE_SECONDS: {
    default: "1800",
    doc: "a session unused this long is forgotten, with its token",
  },
  CONSOLE_SESSION_MAX_SECONDS: {
    default: "28800",
    doc: "no session lives longer than this (8 hours), however busy",
  },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  ...REPLICA_ENV,
} as const;

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value;

function defaultApiserver(env: NodeJS.ProcessEnv): string | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) return undefined;
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return `https://${bracketed}:${env.KUBERNETES_SERVICE_PORT ?? "443"}`;
}

/** The apiserver users' requests go to: the configured one, else the in-cluster Service's. */
function apiserverOf(env: NodeJS.ProcessEnv, problems: string[]): string {
  const url = nonEmpty(env.CONSOLE_APISERVER_URL) ?? defaultApiserver(env);
  if (!url)
    problems.push(
      "CONSOLE_APISERVER_URL is empty and KUBERNETES_SERVICE_HOST is not set: say which apiserver users' requests go to",
    );
  else if (!url.startsWith("https://"))
    problems.push(`CONSOLE_APISERVER_URL must be an https:// URL (got '${url}')`);
  return url ?? "";
}

function sessionLimits(
  positive: PositiveReader<typeof CONSOLE_ENV>,
  problems: string[],
): { idle: number; max: number } {
  const idle = positive("CONSOLE_SESSION_IDLE_SECONDS", { integer: true });
  const max = positive("CONSOLE_SESSION_MAX_SECONDS", { integer: true });
  if (idle > max)
    problems.push(
      `CONSOLE_SESSION_IDLE_SECONDS (${String(idle)}) must not exceed CONSOLE_SESSION_MAX_SECONDS (${String(max)})`,
    );
  return { idle, max };
}

function portOf(env: NodeJS.ProcessEnv, problems: string[]): number {
  const raw = env.PORT ?? CONSOLE_ENV.PORT.default;
  const port = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`PORT must be a port number, 0 for a free one (got '${raw}')`);
  return port;
}

/** Reads and validates the configuration once; every problem is reported together. */
export function loadConfig(env: NodeJS.ProcessEnv): ConsoleConfig {
  const problems: string[] = [];
  const positive = positiveNumbers(env, CONSOLE_ENV, problems);
  const port = portOf(env, problems);
  const apiserverUrl = apiserverOf(env, problems);
  const secure = (env.CONSOLE_SECURE_COOKIES ?? CONSOLE_ENV.CONSOLE_SECURE_COOKIES.default).trim();
  if (secure !== "true" && secure !== "false")
    problems.push(`CONSOLE_SECURE_COOKIES must be true or false (got '${secure}')`);
  const { idle, max } = sessionLimits(positive, problems);
  const config: ConsoleConfig = {
    port,
    bindAddress: nonEmpty(env.BIND_ADDRESS) ?? CONSOLE_ENV.BIND_ADDRESS.default,
    apiserverUrl,
    apiserverCaFile:
      nonEmpty(env.CONSOLE_APISERVER_CA_FILE) ?? CONSOLE_ENV.CONSOLE_APISERVER_CA_FILE.default,
    webDir: nonEmpty(env.CONSOLE_WEB_DIR) ?? CONSOLE_ENV.CONSOLE_WEB_DIR.default,
    secureCookies: secure === "true",
    sessionIdleMs: idle * 1000,
    sessionMaxMs: max * 1000,
    logLevel: env.LOG_LEVEL ?? CONSOLE_ENV.LOG_LEVEL.default,
    ...replicaConfig(env, problems),
  };
  if (problems.length > 0)
    throw new Error(`invalid console configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
