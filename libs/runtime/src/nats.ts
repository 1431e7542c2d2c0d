import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
  credsAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type NatsConnection,
} from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";

/**
 * How a client proves who it is to NATS: a client certificate (the chart's and the local control plane's NATS map its
 * subject to a user: `verify_and_map`), an nkey seed, or a decentralized-JWT creds file (for an external NATS).
 */
export type NatsCredential =
  | { readonly kind: "certificate"; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: "nkey"; readonly seedFile: string }
  | { readonly kind: "creds"; readonly credsFile: string };

export interface NatsOptions {
  readonly servers: string | readonly string[];
  /** Shown in the server's connection list: the service name. */
  readonly name: string;
  readonly timeoutMs?: number;
  /** Keep trying when the first attempt fails (instead of rejecting): for services that run without NATS. */
  readonly waitOnFirstConnect?: boolean;
  /** TLS: the CA of the server's certificate (a PEM file). Undefined: TLS only when the URL says `tls://`. */
  readonly caFile?: string;
  /** Undefined: an anonymous connection (which KubePlus's NATS refuses). */
  readonly credential?: NatsCredential;
  /** Where replies to this client's requests arrive; its permissions allow `<prefix>.>` only. */
  readonly inboxPrefix?: string;
  /**
   * Retry the first connection while NATS cannot be reached (refused, unreachable, timing out: a pod that starts
   * before NATS or before its Service is routed), for `waitMs` (default 120 s), telling `onRetry` of each failure;
   * other errors fail at once. Unset: the first failure is the answer (what a test of refusals needs). Ignored with
   * waitOnFirstConnect (which retries forever).
   */
  readonly retryFirstConnect?: {
    readonly waitMs?: number;
    readonly onRetry: (err: unknown) => void;
  };
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** True for a connection that could not be made at all (nothing answered), as opposed to one that was refused. */
export function isNatsUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "TimeoutError") return true;
  const code = (e: unknown): string =>
    typeof e === "object" && e !== null && "code" in e ? String(e.code) : "";
  return UNREACHABLE_CODES.has(code(err)) || UNREACHABLE_CODES.has(code(err.cause));
}

function authenticatorFor(credential: NatsCredential): Authenticator | undefined {
  // Read on every (re)connect, so that a rotated Secret is picked up without a restart.
  if (credential.kind === "nkey")
    return nkeyAuthenticator(() =>
      new TextEncoder().encode(readFileSync(credential.seedFile, "utf8").trim()),
    );
  if (credential.kind === "creds")
    return credsAuthenticator(() => new Uint8Array(readFileSync(credential.credsFile)));
  return undefined;
}

/** TLS whenever a CA, a client certificate or a tls:// URL is given (and then the server must speak it). */
function tlsOptions(
  options: NatsOptions,
  servers: readonly string[],
): { caFile?: string; certFile?: string; keyFile?: string } | undefined {
  const cert = options.credential?.kind === "certificate" ? options.credential : undefined;
  if (!options.caFile && !cert && !servers.some((s) => s.startsWith("tls://"))) return undefined;
  return {
    ...(options.caFile ? { caFile: options.caFile } : {}),
    ...(cert ? { certFile: cert.certFile, keyFile: cert.keyFile } : {}),
  };
}

/**
 * Connects to NATS and reconnects forever: the library default gives up after about 20 s and would leave a
 * service deaf (the Kubernetes API stays the source of truth; NATS only wakes services sooner).
 */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  const retry = options.waitOnFirstConnect ? undefined : options.retryFirstConnect;
  const deadline = Date.now() + (retry?.waitMs ?? 120_000);
  for (;;) {
    try {
      return await connectOnce(options);
    } catch (err) {
      if (!retry || !isNatsUnreachable(err) || Date.now() >= deadline) throw err;
      retry.onRetry(err);
      await sleep(1_000);
    }
  }
}

function connectOnce(options: NatsOptions): Promise<NatsConnection> {
  const credential = options.credential;
  const authenticator = credential ? authenticatorFor(credential) : undefined;
  const servers = typeof options.servers === "string" ? [options.servers] : [...options.servers];
  const tls = tlsOptions(options, servers);
  return connect({
    servers,
    name: options.name,
    timeout: options.timeoutMs ?? 5_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
    ...(tls ? { tls } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
  });
}

/** The NATS variables every service reads (mirrored in each service's README). */
export const NATS_ENV = {
  NATS_URL: { default: undefined, doc: "NATS server URL(s), comma-separated" },
  NATS_CA_FILE: {
    default: "",
    doc: "CA of the NATS server's certificate (PEM); required unless the URL is tls:// and a public CA signed it",
  },
  NATS_CERT_FILE: {
    default: "",
    doc: "this service's NATS client certificate (PEM; the server maps its subject to the service's user)",
  },
  NATS_KEY_FILE: { default: "", doc: "the private key of NATS_CERT_FILE" },
  NATS_NKEY_SEED_FILE: {
    default: "",
    doc: "instead of a certificate: a file holding this service's nkey seed (SU...)",
  },
  NATS_CREDS_FILE: {
    default: "",
    doc: "instead of a certificate: a decentralized-JWT creds file for an external NATS",
  },
  NATS_INBOX_PREFIX: {
    default: "_INBOX.<service>",
    doc: "subject prefix of this service's reply inbox; its NATS permissions allow only <prefix>.>",
  },
} as const;

/** The NATS part of a service's configuration. */
export interface NatsConfig {
  readonly servers: readonly string[];
  readonly caFile?: string;
  readonly credential: NatsCredential;
  readonly inboxPrefix: string;
}

function credentialFrom(env: NodeJS.ProcessEnv, problems: string[]): NatsCredential | undefined {
  const cert = env.NATS_CERT_FILE ?? "";
  const key = env.NATS_KEY_FILE ?? "";
  const given: NatsCredential[] = [];
  if (cert || key) given.push({ kind: "certificate", certFile: cert, keyFile: key });
  if (env.NATS_NKEY_SEED_FILE) given.push({ kind: "nkey", seedFile: env.NATS_NKEY_SEED_FILE });
  if (env.NATS_CREDS_FILE) given.push({ kind: "creds", credsFile: env.NATS_CREDS_FILE });
  if (given.length > 1)
    problems.push(
      "give one NATS credential: NATS_CERT_FILE/NATS_KEY_FILE, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE, not several",
    );
  if (!cert !== !key) problems.push("NATS_CERT_FILE and NATS_KEY_FILE go together: set both");
  if (given.length === 0)
    problems.push(
      "a NATS credential is required (KubePlus never connects to NATS anonymously): set NATS_CERT_FILE and NATS_KEY_FILE, or NATS_NKEY_SEED_FILE, or NATS_CREDS_FILE",
    );
  return given.length === 1 ? given[0] : undefined;
}

/**
 * Reads and checks the NATS variables: a URL, TLS (a CA file, or tls:// URLs) and exactly one credential. Problems are
 * added to `problems` (the service reports them all at once).
 */
export function natsConfig(
  env: NodeJS.ProcessEnv,
  service: string,
  problems: string[],
): NatsConfig {
  const url = env.NATS_URL ?? "";
  const servers = url
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0)
    problems.push("NATS_URL is required (e.g. tls://nats.kubeplus.svc:4222)");
  const caFile = env.NATS_CA_FILE ?? "";
  if (!caFile && !servers.every((s) => s.startsWith("tls://")))
    problems.push(
      "NATS_CA_FILE is required (the CA of the NATS server's certificate): KubePlus talks to NATS over TLS only; for a NATS whose certificate a public CA signed, use tls:// URLs instead",
    );
  const credential = credentialFrom(env, problems);
  const inboxPrefix = env.NATS_INBOX_PREFIX ?? `_INBOX.${service}`;
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(inboxPrefix))
    problems.push(
      `NATS_INBOX_PREFIX must be dot-separated subject tokens without wildcards (got '${inboxPrefix}')`,
    );
  return {
    servers,
    ...(caFile ? { caFile } : {}),
    credential: credential ?? { kind: "creds", credsFile: "" },
    inboxPrefix,
  };
}
