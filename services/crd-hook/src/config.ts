import { NATS_ENV, natsConfig, positiveNumbers, type NatsConfig } from "@kubeplus/runtime";
import { readFileSync } from "node:fs";

export interface CrdHookConfig {
  readonly nats: NatsConfig;
  readonly kubeconfig?: string;
  readonly namespace: string;
  readonly port: number;
  readonly host: string;
  readonly serviceName: string;
  /** When set (local development), the webhook configurations point at this URL instead of the Service. */
  readonly webhookUrl?: string;
  readonly tlsSecretName: string;
  readonly renderTimeoutMs: number;
  readonly requestDeadlineMs: number;
  /** On SIGTERM, how long crd-hook keeps answering (reported not ready) before it closes its port. */
  readonly shutdownDelayMs: number;
  readonly certRenewBeforeMs: number;
  readonly certValidityDays: number;
  readonly logLevel: string;
  /** `create`: crd-hook creates its webhook configurations; `chart`: the Helm chart owns them, crd-hook fills them. */
  readonly webhookConfigurations: "create" | "chart";
  /** Name of its validating and mutating webhook configurations. */
  readonly webhookConfigurationName: string;
  /**
   * PEM of the CA that signed the apiserver's webhook client certificate: when set, TLS refuses every client that
   * does not present a certificate it signed (only the apiserver may post reviews). Undefined: any client.
   */
  readonly clientCa?: string;
  /** /healthz and /readyz over plain HTTP (probes cannot present the apiserver's client certificate). */
  readonly healthPort: number;
  readonly healthHost: string;
}

/** Every variable crd-hook reads: default (undefined = required) and meaning. Mirrored in README.md. */
export const CRD_HOOK_ENV = {
  ...NATS_ENV,
  KUBECONFIG: { default: "", doc: "kubeconfig file; empty: in-cluster service account" },
  KUBEPLUS_NAMESPACE: {
    default: "kubeplus",
    doc: "namespace KubePlus runs in (certificate Secret, licenses)",
  },
  PORT: { default: "8443", doc: "HTTPS port" },
  HOST: { default: "0.0.0.0", doc: "address to listen on" },
  SERVICE_NAME: {
    default: "crd-hook",
    doc: "the Service the apiserver calls (certificate names <service>.<namespace>.svc)",
  },
  WEBHOOK_URL: {
    default: "",
    doc: "local development: https://127.0.0.1:<port> used in the webhook configurations instead of the Service",
  },
  TLS_SECRET_NAME: {
    default: "crd-hook-tls",
    doc: "Secret holding the webhook's CA and serving certificate",
  },
  RENDER_TIMEOUT_MS: {
    default: "6000",
    doc: "how long composition admission waits for the helmer's render",
  },
  REQUEST_DEADLINE_MS: {
    default: "9000",
    doc: "answer every review within this (below the webhooks' 10 s timeout)",
  },
  SHUTDOWN_DELAY_SECONDS: {
    default: "0",
    doc: "on SIGTERM, keep answering reviews this long (reported not ready) before closing the port, while the Service's endpoints move to the other replicas; the chart sets 5",
  },
  CERT_RENEW_BEFORE_DAYS: {
    default: "30",
    doc: "renew the serving certificate this long before it expires",
  },
  CERT_VALIDITY_DAYS: { default: "365", doc: "lifetime of a new serving certificate" },
  LOG_LEVEL: { default: "info", doc: "pino level: debug, info, warn, error" },
  CLIENT_CA_FILE: {
    default: "",
    doc: "file holding the CA (PEM) of the apiserver's webhook client certificate: when set, only clients presenting a certificate it signed get past TLS; empty (and no CLIENT_CA): any client may post reviews",
  },
  CLIENT_CA: {
    default: "",
    doc: "the same CA as PEM text (the chart sets it from a Secret); CLIENT_CA_FILE wins when both are set",
  },
  WEBHOOK_CONFIGURATION_NAME: {
    default: "kubeplus-crd-hook",
    doc: "name of the validating and mutating webhook configurations (the chart's are kubeplus-crd-hook); several crd-hooks in one cluster, as the test files run them, each need one of their own",
  },
  HEALTH_PORT: { default: "8081", doc: "port of /healthz, /readyz and /metrics (plain HTTP)" },
  HEALTH_HOST: { default: "0.0.0.0", doc: "address of the health endpoints" },
  WEBHOOK_CONFIGURATIONS: {
    default: "create",
    doc: "create: crd-hook creates its webhook configurations; chart: it only fills the ones the Helm chart created (so that helm uninstall removes them)",
  },
} as const;

function healthPortOf(env: NodeJS.ProcessEnv, problems: string[]): number {
  const raw = env.HEALTH_PORT ?? CRD_HOOK_ENV.HEALTH_PORT.default;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    problems.push(`HEALTH_PORT must be a port number, 0 for any free one (got '${raw}')`);
  return port;
}

function clientCaOf(env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const file = env.CLIENT_CA_FILE ?? "";
  if (!file) {
    const pem = env.CLIENT_CA ?? "";
    if (pem && !pem.includes("BEGIN CERTIFICATE"))
      problems.push(
        "CLIENT_CA is not a PEM certificate: give the CA of the apiserver's webhook client certificate, or leave it empty",
      );
    return pem || undefined;
  }
  try {
    const pem = readFileSync(file, "utf8");
    if (!pem.includes("BEGIN CERTIFICATE")) throw new Error("no PEM certificate");
    return pem;
  } catch {
    problems.push(
      `CLIENT_CA_FILE ${file} cannot be read as a PEM certificate: mount the Secret holding the apiserver's webhook client CA there, or leave CLIENT_CA_FILE empty`,
    );
    return undefined;
  }
}

function shutdownDelayMs(env: NodeJS.ProcessEnv, problems: string[]): number {
  const text = env.SHUTDOWN_DELAY_SECONDS ?? CRD_HOOK_ENV.SHUTDOWN_DELAY_SECONDS.default;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds < 0 || seconds > 60) {
    problems.push(
      `SHUTDOWN_DELAY_SECONDS must be a number of seconds from 0 to 60 (got '${text}')`,
    );
    return 0;
  }
  return seconds * 1000;
}

type StringVar = Exclude<keyof typeof CRD_HOOK_ENV, keyof typeof NATS_ENV>;
const text = (env: NodeJS.ProcessEnv, name: StringVar): string =>
  env[name] ?? CRD_HOOK_ENV[name].default;

export function loadConfig(env: NodeJS.ProcessEnv): CrdHookConfig {
  const problems: string[] = [];
  const positive = positiveNumbers(env, CRD_HOOK_ENV, problems);
  const webhookUrl = text(env, "WEBHOOK_URL");
  const mode = text(env, "WEBHOOK_CONFIGURATIONS");
  if (mode !== "create" && mode !== "chart")
    problems.push(`WEBHOOK_CONFIGURATIONS must be 'create' or 'chart' (got '${mode}')`);
  if (webhookUrl && !webhookUrl.startsWith("https://"))
    problems.push(`WEBHOOK_URL must start with https:// (got '${webhookUrl}')`);
  const clientCa = clientCaOf(env, problems);
  const webhookConfigurationName = text(env, "WEBHOOK_CONFIGURATION_NAME");
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(webhookConfigurationName))
    problems.push(
      `WEBHOOK_CONFIGURATION_NAME must be a DNS subdomain name (got '${webhookConfigurationName}')`,
    );
  const config: CrdHookConfig = {
    nats: natsConfig(env, "crd-hook", problems),
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespace: text(env, "KUBEPLUS_NAMESPACE"),
    port: positive("PORT"),
    host: text(env, "HOST"),
    serviceName: text(env, "SERVICE_NAME"),
    ...(webhookUrl ? { webhookUrl: webhookUrl.replace(/\/$/, "") } : {}),
    tlsSecretName: text(env, "TLS_SECRET_NAME"),
    renderTimeoutMs: positive("RENDER_TIMEOUT_MS"),
    requestDeadlineMs: positive("REQUEST_DEADLINE_MS"),
    shutdownDelayMs: shutdownDelayMs(env, problems),
    certRenewBeforeMs: positive("CERT_RENEW_BEFORE_DAYS") * 24 * 3600 * 1000,
    certValidityDays: positive("CERT_VALIDITY_DAYS"),
    logLevel: text(env, "LOG_LEVEL"),
    webhookConfigurations: text(env, "WEBHOOK_CONFIGURATIONS") === "chart" ? "chart" : "create",
    webhookConfigurationName,
    ...(clientCa ? { clientCa } : {}),
    healthPort: healthPortOf(env, problems),
    healthHost: text(env, "HEALTH_HOST"),
  };
  if (problems.length > 0)
    throw new Error(`invalid crd-hook configuration:\n  - ${problems.join("\n  - ")}`);
  return Object.freeze(config);
}
