import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { ClusterState } from "./cluster.js";
import { natsCredentialFiles } from "./nats-auth.js";
import { repoRoot } from "./paths.js";
import { freePorts } from "./ports.js";
import { isRunning, startProcess, stopProcess, tailFile, type ManagedProcess } from "./process.js";
import { webhookClientCaFile } from "./webhook-client.js";

const run = promisify(execFile);

/** The four services, in start order, as `make up` runs them: local processes acting as the chart's identity. */
export const STACK_SERVICES = [
  "helmer",
  "kubeconfig-generator",
  "crd-hook",
  "metrics-collector",
] as const;
export type StackService = (typeof STACK_SERVICES)[number];

export interface StackState {
  readonly dir: string;
  readonly namespace: string;
  readonly release: string;
  /** The provider kubeconfig: what the chart was installed with and what the services run as. */
  readonly providerKubeconfig: string;
  readonly adminKubeconfig: string;
  readonly services: readonly (ManagedProcess & { readonly healthUrl: string })[];
  readonly metricsUrl?: string;
  readonly readyInMs: number;
}

export interface StackOptions {
  readonly cluster: ClusterState;
  /** Where the stack keeps its kubeconfig, logs and state (default: <cluster run dir>/../stack). */
  readonly dir: string;
  readonly namespace: string;
  readonly release?: string;
  /** The chart to install (default: deploy/charts/kubeplus of this repository). */
  readonly chart?: string;
  /** Extra `--set` values for the chart. */
  readonly set?: readonly string[];
  readonly report: (line: string) => void;
  /** The caller's environment (PATH and HOME are passed on to the services). */
  readonly env: NodeJS.ProcessEnv;
}

export const stackStateFile = (dir: string): string => join(dir, "stack.json");

export function readStack(dir: string): StackState | undefined {
  const file = stackStateFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StackState) : undefined;
}

/** Runs helm with a private HOME and caches in the stack folder (never the user's helm configuration). */
export async function helm(
  state: Pick<StackState, "dir">,
  cluster: ClusterState,
  args: readonly string[],
  path = "/usr/bin:/bin",
): Promise<string> {
  const home = join(state.dir, "helm-home");
  const { stdout } = await run(cluster.tools.helm, [...args], {
    env: {
      PATH: path,
      HOME: home,
      HELM_CACHE_HOME: join(home, "cache"),
      HELM_CONFIG_HOME: join(home, "config"),
      HELM_DATA_HOME: join(home, "data"),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

async function probe(url: string): Promise<number> {
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    // Loopback only, to our own crd-hook: its certificate names the Service, not 127.0.0.1's caller.
    const req = request(url, { rejectUnauthorized: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", () => {
      resolve(0);
    });
    req.end();
  });
}

function serviceEnv(
  options: StackOptions,
  provider: string,
  service: StackService,
  ports: { health: number; serve: number },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: options.env.PATH,
    HOME: options.env.HOME,
    KUBECONFIG: provider,
    // Each service on NATS as itself: TLS, its own client certificate, the permissions its identity has.
    NATS_URL: options.cluster.natsUrl,
    NATS_CA_FILE: options.cluster.natsCaFile,
    NATS_CERT_FILE: natsCredentialFiles(options.cluster.natsAuthDir, service).certFile,
    NATS_KEY_FILE: natsCredentialFiles(options.cluster.natsAuthDir, service).keyFile,
    KUBEPLUS_NAMESPACE: options.namespace,
    HELM_BIN: options.cluster.tools.helm,
    CHART_CACHE_DIR: join(options.dir, "charts"),
    POD_NAME: `${service}-local`,
    HEALTH_PORT: String(ports.health),
    HEALTH_HOST: "127.0.0.1",
    // `make up LOG_LEVEL=debug`: every step of every reconcile, not only the state changes.
    LOG_LEVEL: options.env.LOG_LEVEL ?? "info",
  };
  if (service === "crd-hook") {
    // The apiserver calls crd-hook by URL on loopback (the provider was created with --allow-webhook-url); the
    // chart's webhook configurations are filled with it. Only the apiserver's webhook client certificate gets in.
    Object.assign(env, {
      PORT: String(ports.serve),
      HOST: "127.0.0.1",
      WEBHOOK_URL: `https://127.0.0.1:${String(ports.serve)}`,
      WEBHOOK_CONFIGURATIONS: "chart",
      CLIENT_CA_FILE: webhookClientCaFile(options.cluster.runDir),
    });
  }
  // Charts served by the local machine (the demo's and the tests') are on loopback, which the helmer fetches from
  // only when the provider allows it.
  if (service === "helmer") {
    env.CHART_FETCH_ALLOW_CIDRS = "127.0.0.1/32";
    env.CLUSTER_CIDRS = `${options.cluster.network.clusterCidr},${options.cluster.network.serviceCidr}`;
    // The metrics-collector runs on the host, which reaches real nodes' pods from its address on their fabric.
    env.METRICS_COLLECTOR_CIDRS = `${options.cluster.network.hostIp}/32`;
  }
  if (service === "metrics-collector")
    // kwok serves the kubelet endpoints on loopback, which the apiserver's node proxy refuses to dial: the collector
    // reaches them directly, as metrics-server does, verifying them with the local control plane's CA.
    Object.assign(env, {
      PORT: String(ports.serve),
      HOST: "127.0.0.1",
      INTERVAL_SECONDS: "5",
      KUBELET_ACCESS: "direct",
      KUBELET_CA_FILE: join(options.cluster.runDir, "pki", "ca.crt"),
    });
  return env;
}

async function waitReady(proc: ManagedProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(proc))
      throw new Error(`${proc.name} exited; last lines of ${proc.log}:\n${tailFile(proc.log)}`);
    if ((await probe(url)) === 200) return;
    await sleep(250);
  }
  throw new Error(
    `${proc.name} not ready within ${String(timeoutMs / 1000)} s (${url}); last lines of ${proc.log}:\n${tailFile(proc.log)}`,
  );
}

/** The services whose build output exists (a service not built yet is reported, not fatal). */
function builtServices(report: (line: string) => void): StackService[] {
  return STACK_SERVICES.filter((name) => {
    const built = existsSync(join(repoRoot, "services", name, "dist", "main.js"));
    if (!built) report(`${name} is not built (services/${name}/dist/main.js); skipping it`);
    return built;
  });
}

async function providerKubeconfig(options: StackOptions): Promise<string> {
  const file = join(options.dir, "kubeplus-saas-provider.json");
  options.report(`creating the provider identity in namespace ${options.namespace}`);
  await run(
    process.execPath,
    [
      join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
      "create",
      options.namespace,
      "-k",
      options.cluster.kubeconfig,
      "-f",
      "kubeplus-saas-provider.json",
      // crd-hook runs beside the apiserver here, which calls it on a loopback URL.
      "--allow-webhook-url",
    ],
    { cwd: options.dir },
  );
  return file;
}

/**
 * `make up`'s second half: the provider identity, `helm install` of the KubePlus chart with the provider kubeconfig
 * (kwok runs its pods), then the services as local processes acting as that same identity, health-checked.
 */
export async function stackUp(options: StackOptions): Promise<StackState> {
  const started = Date.now();
  mkdirSync(join(options.dir, "logs"), { recursive: true });
  mkdirSync(join(options.dir, "pids"), { recursive: true });
  const provider = await providerKubeconfig(options);
  const release = options.release ?? "kubeplus";
  const partial = { dir: options.dir };
  const chart = options.chart ?? join(repoRoot, "deploy", "charts", "kubeplus");
  options.report(
    `helm upgrade --install ${release} ${chart} -n ${options.namespace} (as the provider)`,
  );
  await helm(
    partial,
    options.cluster,
    [
      "upgrade",
      "--install",
      release,
      chart,
      "-n",
      options.namespace,
      "--kubeconfig",
      provider,
      "--wait",
      "--timeout",
      "180s",
      ...(options.set ?? []).flatMap((s) => ["--set", s]),
    ],
    options.env.PATH,
  );
  const services: (ManagedProcess & { healthUrl: string })[] = [];
  let metricsUrl: string | undefined;
  for (const name of builtServices(options.report)) {
    const [health = 0, serve = 0] = await freePorts(2);
    const proc = startProcess({
      name,
      binary: process.execPath,
      args: [join(repoRoot, "services", name, "dist", "main.js")],
      logDir: join(options.dir, "logs"),
      pidDir: join(options.dir, "pids"),
      env: serviceEnv(options, provider, name, { health, serve }),
    });
    const healthUrl = `http://127.0.0.1:${String(health)}/readyz`;
    if (name === "metrics-collector") metricsUrl = `http://127.0.0.1:${String(serve)}/metrics`;
    await waitReady(proc, healthUrl, 60_000);
    options.report(`${name} ready (pid ${String(proc.pid)}, log ${proc.log})`);
    services.push({ ...proc, healthUrl });
  }
  const state: StackState = {
    dir: options.dir,
    namespace: options.namespace,
    release,
    providerKubeconfig: provider,
    adminKubeconfig: options.cluster.kubeconfig,
    services,
    ...(metricsUrl ? { metricsUrl } : {}),
    readyInMs: Date.now() - started,
  };
  writeFileSync(stackStateFile(options.dir), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** Stops exactly the service processes `stackUp` started, by PID. The cluster itself is left to `down`. */
export async function stackDown(dir: string, report: (line: string) => void): Promise<boolean> {
  const state = readStack(dir);
  if (!state) return false;
  for (const proc of [...state.services].reverse()) {
    const outcome = await stopProcess(proc, join(dir, "pids"));
    if (outcome !== "not-running") report(`${proc.name} (pid ${String(proc.pid)}) ${outcome}`);
  }
  rmSync(stackStateFile(dir), { force: true });
  return true;
}
