import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { Agent, type RequestOptions } from "node:https";
import { parse } from "yaml";

/**
 * What a raw request needs of a kubeconfig: the server, and the credentials applied to one request. client-node's
 * KubeConfig has this shape, and so has the light loader below, which a service that needs nothing else of
 * client-node uses instead. Measured in the metrics-collector (`make bench BENCH=metrics`, 2026-12-01, README
 * Figures): 169 MiB resident at 1000 instances with client-node, 127 MiB with this loader, 42 MiB less.
 */
export interface ApiAccess {
  getCurrentCluster(): { readonly server: string } | null;
  applyToHTTPSOptions(options: RequestOptions): Promise<void>;
  /**
   * The kubeconfig's client certificate and key, for servers other than the apiserver that authenticate the same
   * identity (kubelets, which metrics-server-style clients call directly); undefined for tokens. applyToHTTPSOptions
   * carries them in an agent bound to the apiserver's CA, which cannot be used for those servers.
   */
  clientCertificate?(): { readonly cert: Buffer; readonly key: Buffer } | undefined;
}

interface NamedEntry<T> {
  readonly name: string;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}
interface ClusterEntry {
  readonly server?: string;
  readonly "certificate-authority-data"?: string;
  readonly "certificate-authority"?: string;
  readonly "insecure-skip-tls-verify"?: boolean;
  readonly "tls-server-name"?: string;
  readonly "proxy-url"?: string;
}
interface UserEntry {
  readonly "client-certificate-data"?: string;
  readonly "client-certificate"?: string;
  readonly "client-key-data"?: string;
  readonly "client-key"?: string;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly username?: string;
  readonly password?: string;
  readonly exec?: unknown;
  readonly "auth-provider"?: unknown;
}
interface ContextEntry {
  readonly cluster?: string;
  readonly user?: string;
}
interface KubeconfigFile {
  readonly "current-context"?: string;
  readonly clusters?: readonly NamedEntry<ClusterEntry>[];
  readonly users?: readonly NamedEntry<UserEntry>[];
  readonly contexts?: readonly NamedEntry<ContextEntry>[];
}

/** Credentials the light loader can apply by itself; anything else is left to client-node. */
export interface StaticCredentials {
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecure?: boolean;
  readonly servername?: string;
  readonly token?: string;
  /** Read again when it changes (projected service-account tokens rotate). */
  readonly tokenFile?: string;
  readonly basic?: { readonly username: string; readonly password: string };
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

function fileOrData(base: string, data?: string, file?: string): Buffer | undefined {
  if (data) return Buffer.from(data, "base64");
  if (file) return readFileSync(isAbsolute(file) ? file : join(base, file));
  return undefined;
}

function named<T>(
  list: readonly NamedEntry<T>[] | undefined,
  name: string | undefined,
  field: "cluster" | "user" | "context",
): T | undefined {
  return list?.find((e) => e.name === name)?.[field];
}

const resolved = (base: string, file?: string): string | undefined =>
  file && (isAbsolute(file) ? file : join(base, file));

function userCredentials(user: UserEntry, base: string): Record<string, unknown> {
  return {
    cert: fileOrData(base, user["client-certificate-data"], user["client-certificate"]),
    key: fileOrData(base, user["client-key-data"], user["client-key"]),
    token: user.token,
    tokenFile: resolved(base, user.tokenFile),
    basic:
      user.username === undefined
        ? undefined
        : { username: user.username, password: user.password ?? "" },
  };
}

/**
 * The current context's credentials from kubeconfig text, or undefined when they need client-node (exec plugins,
 * auth providers, proxies). Relative file paths are relative to `base`, the kubeconfig's folder. Pure but for the
 * certificate files it names.
 */
export function staticCredentials(text: string, base: string): StaticCredentials | undefined {
  const file = (parse(text) ?? {}) as KubeconfigFile;
  const context = named(file.contexts, file["current-context"], "context");
  const cluster = named(file.clusters, context?.cluster, "cluster");
  const user = named(file.users, context?.user, "user") ?? {};
  if (!cluster?.server) {
    const what = file["current-context"] ?? "(none)";
    throw new Error(`the kubeconfig's current context ${what} names no cluster with a server`);
  }
  if (user.exec || user["auth-provider"] || cluster["proxy-url"]) return undefined;
  const parts: Record<string, unknown> = {
    server: cluster.server,
    ca: fileOrData(base, cluster["certificate-authority-data"], cluster["certificate-authority"]),
    insecure: cluster["insecure-skip-tls-verify"],
    servername: cluster["tls-server-name"],
    ...userCredentials(user, base),
  };
  return Object.fromEntries(
    Object.entries(parts).filter(([, v]) => v !== undefined && v !== ""),
  ) as unknown as StaticCredentials;
}

/** The pod's service account, as client-go's in-cluster config reads it. */
function inClusterCredentials(env: NodeJS.ProcessEnv): StaticCredentials | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(SERVICE_ACCOUNT, "token");
  if (!host || !port) return undefined;
  try {
    statSync(tokenFile);
  } catch {
    return undefined;
  }
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { server, ca: readFileSync(join(SERVICE_ACCOUNT, "ca.crt")), tokenFile };
}

/** One keep-alive agent for every request, and the bearer token re-read when its file changes. */
export class StaticAccess implements ApiAccess {
  private readonly creds: StaticCredentials;
  private readonly agent: Agent;
  private token?: { value: string; mtimeMs: number; checkedAt: number };

  constructor(creds: StaticCredentials) {
    this.creds = creds;
    this.agent = new Agent({
      keepAlive: true,
      ...(creds.ca ? { ca: creds.ca } : {}),
      ...(creds.cert ? { cert: creds.cert } : {}),
      ...(creds.key ? { key: creds.key } : {}),
      ...(creds.servername ? { servername: creds.servername } : {}),
      rejectUnauthorized: creds.insecure !== true,
    });
  }

  getCurrentCluster(): { readonly server: string } {
    return { server: this.creds.server };
  }

  private bearer(): string | undefined {
    if (!this.creds.tokenFile) return this.creds.token;
    const now = Date.now();
    if (!this.token || now - this.token.checkedAt > 10_000) {
      const mtimeMs = statSync(this.creds.tokenFile).mtimeMs;
      if (this.token?.mtimeMs !== mtimeMs) {
        const value = readFileSync(this.creds.tokenFile, "utf8").trim();
        this.token = { value, mtimeMs, checkedAt: now };
      } else this.token.checkedAt = now;
    }
    return this.token.value;
  }

  clientCertificate(): { readonly cert: Buffer; readonly key: Buffer } | undefined {
    const { cert, key } = this.creds;
    return cert && key ? { cert, key } : undefined;
  }

  applyToHTTPSOptions(options: RequestOptions): Promise<void> {
    const headers = (options.headers ?? {}) as Record<string, string>;
    const token = this.bearer();
    if (token) headers.authorization = `Bearer ${token}`;
    else if (this.creds.basic) {
      const pair = `${this.creds.basic.username}:${this.creds.basic.password}`;
      headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
    }
    options.headers = headers;
    options.agent = this.agent;
    return Promise.resolve();
  }
}

/**
 * Loads a kubeconfig as loadKubeConfig does (the file given, else $KUBECONFIG, else ~/.kube/config, else the
 * in-cluster service account) without client-node when the credentials are static: certificates, tokens, token
 * files. Kubeconfigs that need more (exec plugins, auth providers, proxies, several $KUBECONFIG files to merge) are
 * loaded by client-node, imported only then.
 */
export async function loadApiAccess(
  path: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ApiAccess> {
  const fallback = async (): Promise<ApiAccess> =>
    (await import("./client.js")).loadKubeConfig(path);
  const fromEnv = env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? [];
  if (!path && fromEnv.length > 1) return fallback();
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  const file = path ?? fromEnv[0] ?? (exists(home) ? home : undefined);
  if (!file) {
    const inCluster = inClusterCredentials(env);
    if (!inCluster) throw new Error(noConfig(home));
    return new StaticAccess(inCluster);
  }
  const creds = staticCredentials(readFileSync(file, "utf8"), dirname(file));
  return creds ? new StaticAccess(creds) : fallback();
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

const noConfig = (home: string): string =>
  `no kubeconfig: set KUBECONFIG, create ${home}, or run in a pod with a service account`;
