import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { natsCredentialFiles, repoRoot, type ClusterState } from "@kubeplus/dev";
import { connectNats } from "@kubeplus/runtime";
import type { NatsConnection } from "@nats-io/nats-core";
import { inject } from "vitest";
import { forgetServiceProcess, recordServiceProcess, testWebhookName } from "./leftovers.js";
import { recordServiceLog } from "./service-logs.js";

/** A KubePlus service running as a real process (node dist/main.js), with its structured log captured. */
export interface RunningService {
  readonly name: string;
  readonly process: ChildProcess;
  /** Every log line so far, parsed (pino JSON). */
  logs(): Record<string, unknown>[];
  /** Waits until a log line matches (for example msg "helmer started"). */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL for the service and every process it started (helm included): a container dying mid-operation. */
  crash(): Promise<void>;
}

/**
 * The NATS variables of one identity of the local control plane: its URL, CA and client certificate (the server maps
 * the certificate to the identity's user and its permissions).
 */
export function natsEnv(state: ClusterState, user: string): Record<string, string> {
  const { certFile, keyFile } = natsCredentialFiles(state.natsAuthDir, user);
  return {
    NATS_URL: state.natsUrl,
    NATS_CA_FILE: state.natsCaFile,
    NATS_CERT_FILE: certFile,
    NATS_KEY_FILE: keyFile,
  };
}

/**
 * A NATS connection of the test acting as one identity (`provider` for the provider's tools, or a service's name):
 * it may do exactly what that identity may.
 */
export function connectNatsAs(
  state: ClusterState,
  user: string,
  options: { name?: string; timeoutMs?: number } = {},
): Promise<NatsConnection> {
  const { certFile, keyFile } = natsCredentialFiles(state.natsAuthDir, user);
  return connectNats({
    servers: state.natsUrl,
    name: options.name ?? `test-as-${user}`,
    caFile: state.natsCaFile,
    credential: { kind: "certificate", certFile, keyFile },
    inboxPrefix: `_INBOX.${user}`,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });
}

/**
 * The environment every service gets from the local control plane (kubeconfig, NATS, tool paths). `startService`
 * adds the service's own NATS certificate unless the environment names one.
 */
export function serviceEnv(
  state: ClusterState,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: state.kubeconfig,
    NATS_URL: state.natsUrl,
    NATS_CA_FILE: state.natsCaFile,
    HELM_BIN: state.tools.helm,
    LOG_LEVEL: "debug",
    // Several services share the host: health endpoints on free loopback ports.
    HEALTH_PORT: "0",
    HEALTH_HOST: "127.0.0.1",
    // The tests' own chart servers and registries listen on loopback, which the helmer fetches from only when
    // allowed (a test of the fetcher's fence narrows it).
    CHART_FETCH_ALLOW_CIDRS: "127.0.0.1/32",
    // The control plane's pod and service ranges: tenants' egress ipBlocks leave them out.
    CLUSTER_CIDRS: `${state.network.clusterCidr},${state.network.serviceCidr}`,
    // Tests run the metrics-collector on the host: its address on the real nodes' fabric (helmer: appEndpoints).
    METRICS_COLLECTOR_CIDRS: `${state.network.hostIp}/32`,
    ...extra,
  };
}

/** The service's own NATS credential, unless the environment already names one (or the state has none). */
function withNatsCredential(name: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const named = env.NATS_CERT_FILE ?? env.NATS_NKEY_SEED_FILE ?? env.NATS_CREDS_FILE;
  if (named !== undefined) return env;
  const dir = env.NATS_CA_FILE ? dirname(env.NATS_CA_FILE) : "";
  if (!dir) return env;
  const { certFile, keyFile } = natsCredentialFiles(dir, name);
  return { ...env, NATS_CERT_FILE: certFile, NATS_KEY_FILE: keyFile };
}

/** How long `stop` waits for a service's graceful shutdown before it kills it. */
const STOP_GRACE_MS = 15_000;

/** The control plane's run folder, when this runs in a test worker of the int or e2e project. */
function currentRunDir(): string | undefined {
  try {
    return inject("cluster").runDir;
  } catch {
    return undefined;
  }
}

/**
 * Every crd-hook a test starts names its webhook configurations after its KubePlus namespace (testWebhookName), unless
 * the test names them itself: with crd-hook's default name, a file whose teardown removed its own name left the
 * configurations behind, failing closed on every KubePlus object of the files after it (CI, 2026-12-03: the
 * observability test's crd-hook, then "connection refused" in eleven tests of five later files).
 */
function withTestWebhookName(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.WEBHOOK_CONFIGURATION_NAME) return env;
  return {
    ...env,
    WEBHOOK_CONFIGURATION_NAME: testWebhookName(env.KUBEPLUS_NAMESPACE ?? "kubeplus"),
  };
}

export async function startService(
  name: string,
  serviceEnvironment: NodeJS.ProcessEnv,
  ready: (line: Record<string, unknown>) => boolean,
): Promise<RunningService> {
  const env = withNatsCredential(
    name,
    name === "crd-hook" ? withTestWebhookName(serviceEnvironment) : serviceEnvironment,
  );
  const entry = join(repoRoot, "services", name, "dist", "main.js");
  // Its own process group, so that crash() takes its children (helm) down with it, as a dying container would.
  const child = spawn(process.execPath, [entry], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buffer = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const text of parts.filter(Boolean)) {
      raw.push(text);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { msg: text };
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => raw.push(chunk.toString()));
  recordServiceLog({
    name,
    pid: child.pid,
    lines: () => raw,
    state: () =>
      child.exitCode !== null
        ? `exited with code ${String(child.exitCode)}`
        : child.signalCode !== null
          ? `killed by ${child.signalCode}`
          : "running",
  });
  // Recorded until it exits: should this file end without stopping it, the next one does (leftovers.ts).
  const runDir = currentRunDir();
  const pid = child.pid;
  if (runDir && pid !== undefined) recordServiceProcess(runDir, { pid, name, entry });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      if (runDir && pid !== undefined) forgetServiceProcess(runDir, pid);
      resolve(code);
    }),
  );
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;

  const waitForLog = (
    match: (l: Record<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<Record<string, unknown>> => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${name}: no matching log line within ${timeoutMs} ms; output:\n${raw.slice(-30).join("\n")}`,
          ),
        );
      }, timeoutMs);
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${name} exited with code ${String(code)}; output:\n${raw.slice(-30).join("\n")}`,
          ),
        );
      });
    });
  };
  await waitForLog(ready);
  return {
    name,
    process: child,
    logs: () => [...lines],
    waitForLog,
    stop: async (signal = "SIGTERM") => {
      if (alive()) child.kill(signal);
      // A service that does not finish its shutdown in time is killed, with its children: a teardown never hangs on it.
      const timer = setTimeout(() => {
        if (pid !== undefined && alive()) process.kill(-pid, "SIGKILL");
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
    crash: async () => {
      if (pid !== undefined && alive()) process.kill(-pid, "SIGKILL");
      await exited;
    },
  };
}

/** An HTTP server on loopback serving fixed files (charts) from memory, started by the test. */
export async function serveFiles(
  files: Record<string, Buffer>,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    const body = files[path];
    if (!body) {
      res.writeHead(404).end("not found");
      return;
    }
    res
      .writeHead(200, { "content-type": "application/gzip", "content-length": body.length })
      .end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
