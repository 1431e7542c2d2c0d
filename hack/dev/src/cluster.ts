import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  apiServerSpec,
  controllerManagerSpec,
  etcdSpec,
  kwokLogsConfig,
  kwokLogsConfigPath,
  kwokSpec,
  natsSpec,
  PORT_NAMES,
  provisionerSpec,
  schedulerSpec,
  type ComponentContext,
  type ComponentSpec,
  type Ports,
  type ToolPaths,
} from "./components.js";
import { adminTls, httpCall, probe, type ClientTls } from "./http.js";
import { buildKubeconfig } from "./kubeconfig.js";
import { generateNatsAuth, natsCredentialFiles, natsServerConfig } from "./nats-auth.js";
import { buildImages, type BuiltImage } from "./images.js";
import { networkPlan, type NetworkPlan } from "./network-plan.js";
import { nodeManifest, nodeShapes } from "./nodes.js";
import { runLayout, repoRoot, type RunLayout } from "./paths.js";
import { generatePki, pkiPaths, readClusterCa, readPair, type Pki } from "./pki.js";
import { freePorts } from "./ports.js";
import { LOCAL_PROVISIONER, unmountVolumes } from "./provisioner.js";
import { isRunning, startProcess, stopProcess, tailFile, type ManagedProcess } from "./process.js";
import { acquireSlot, releaseSlot, startRealNodes, stopRealNodes } from "./real-nodes.js";
import { ensureTools, toolEnvironment } from "./tools.js";
import { writeWebhookClient } from "./webhook-client.js";

/** What `up` leaves behind in state.json: everything tests, `status`, `env` and `down` need. */
export interface ClusterState {
  readonly runDir: string;
  readonly startedAt: string;
  readonly readyInMs: number;
  readonly apiServerUrl: string;
  readonly natsUrl: string;
  readonly natsMonitorUrl: string;
  /** NATS's CA, its configuration and one client certificate per identity (`natsCredentialFiles`). */
  readonly natsAuthDir: string;
  readonly natsCaFile: string;
  readonly kubeconfig: string;
  readonly ports: Ports;
  readonly tools: ToolPaths;
  readonly nodes: readonly string[];
  readonly processes: readonly ManagedProcess[];
  /** Addresses of pods, services and real nodes (network-plan.ts). */
  readonly network: NetworkPlan;
  /** The real nodes' names, and their processes (containerd, kubelet, kube-proxy, kube-router, CoreDNS). */
  readonly realNodes: readonly string[];
  readonly realNodeProcesses: readonly ManagedProcess[];
}

export interface UpOptions {
  readonly runDir: string;
  readonly nodes: number;
  /** Real worker nodes (kubelet + containerd in network namespaces); 0 for kwok only. */
  readonly realNodes: number;
  /** Image archives each real node's containerd loads, and the sandbox (pause) image among them. */
  readonly nodeImages?: readonly BuiltImage[];
  readonly maxPods: number;
  /** Extra kube-apiserver flags, e.g. an audit policy and log for counting requests. */
  readonly apiServerArgs?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Progress lines ("[dev] etcd ready in 0.4s"). */
  readonly report: (line: string) => void;
}

const READY_TIMEOUT_MS = 90_000;

export function readState(runDir: string): ClusterState | undefined {
  const file = runLayout(runDir).state;
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterState;
}

/** A component that died while we waited for it: its log tail says why. */
export class ComponentFailedError extends Error {
  readonly component: string;
  readonly log: string;

  constructor(component: string, log: string, detail: string) {
    super(`${component} ${detail}; last lines of ${log}:\n${tailFile(log, 25)}`);
    this.name = "ComponentFailedError";
    this.component = component;
    this.log = log;
  }
}

async function waitFor(
  proc: ManagedProcess,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (!isRunning(proc))
      throw new ComponentFailedError(proc.name, proc.log, "exited during start");
    if (Date.now() > deadline) {
      throw new ComponentFailedError(
        proc.name,
        proc.log,
        `was not ${what} after ${timeoutMs / 1000}s`,
      );
    }
    await sleep(100);
  }
}

function writeKubeconfig(path: string, server: string, pki: Pki, identity: string): void {
  const pair = readPair(pki, identity);
  const content = buildKubeconfig({
    server,
    caPem: readFileSync(pki.caCert, "utf8"),
    user: identity,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  });
  writeFileSync(path, content, { mode: 0o600 });
}

class Launcher {
  readonly started: ManagedProcess[] = [];
  private readonly t0 = Date.now();
  private readonly tools: ToolPaths;
  private readonly layout: RunLayout;
  private readonly report: (line: string) => void;

  constructor(tools: ToolPaths, layout: RunLayout, report: (line: string) => void) {
    this.tools = tools;
    this.layout = layout;
    this.report = report;
  }

  start(spec: ComponentSpec): ManagedProcess {
    const proc = startProcess({
      name: spec.name,
      binary: spec.binary === "node" ? process.execPath : this.tools[spec.binary],
      args: spec.args,
      logDir: this.layout.logs,
      pidDir: this.layout.pids,
    });
    this.started.push(proc);
    return proc;
  }

  ready(name: string): void {
    this.report(`${name} ready (${((Date.now() - this.t0) / 1000).toFixed(1)}s)`);
  }

  elapsedMs(): number {
    return Date.now() - this.t0;
  }
}

async function startStorageAndBroker(l: Launcher, ctx: ComponentContext): Promise<void> {
  const etcd = l.start(etcdSpec(ctx));
  const nats = l.start(natsSpec(ctx));
  await Promise.all([
    waitFor(
      etcd,
      "healthy",
      async () => (await probe(`http://127.0.0.1:${ctx.ports.etcd}/health`)) === 200,
    ),
    waitFor(nats, "healthy", async () => {
      const url = `http://127.0.0.1:${ctx.ports.natsMonitor}/healthz?js-enabled-only=true`;
      return (await probe(url)) === 200;
    }),
  ]);
  l.ready("etcd and nats-server (JetStream)");
}

async function startControlPlane(
  l: Launcher,
  ctx: ComponentContext,
  tls: ClientTls,
): Promise<void> {
  const api = l.start(apiServerSpec(ctx));
  const apiUrl = `https://127.0.0.1:${ctx.ports.apiServer}`;
  await waitFor(api, "ready", async () => (await probe(`${apiUrl}/readyz`, tls)) === 200);
  l.ready("kube-apiserver");
  const kcm = l.start(controllerManagerSpec(ctx));
  const scheduler = l.start(schedulerSpec(ctx));
  const kwok = l.start(kwokSpec(ctx));
  await Promise.all([
    waitFor(kcm, "healthy", async () => {
      return (await probe(`https://127.0.0.1:${ctx.ports.controllerManager}/healthz`)) === 200;
    }),
    waitFor(scheduler, "healthy", async () => {
      return (await probe(`https://127.0.0.1:${ctx.ports.scheduler}/healthz`)) === 200;
    }),
    waitFor(
      kwok,
      "healthy",
      async () => (await probe(`https://127.0.0.1:${ctx.ports.kwok}/healthz`)) > 0,
    ),
  ]);
  l.ready("kube-controller-manager, kube-scheduler and kwok");
}

interface NodeList {
  items: {
    metadata: { name: string };
    status?: { conditions?: { type: string; status: string }[] };
  }[];
}

async function createNodes(
  l: Launcher,
  apiUrl: string,
  tls: ClientTls,
  options: { nodes: number; maxPods: number },
): Promise<string[]> {
  const shapes = nodeShapes(options.nodes, options.maxPods);
  for (const shape of shapes) {
    const res = await httpCall(`${apiUrl}/api/v1/nodes`, {
      method: "POST",
      body: nodeManifest(shape),
      tls,
    });
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(`creating node ${shape.name} failed: HTTP ${res.status} ${res.body}`);
    }
  }
  const kwok = l.started.find((p) => p.name === "kwok");
  if (!kwok) throw new Error("kwok is not running");
  await waitFor(kwok, "making every node Ready", async () => {
    const list = JSON.parse((await httpCall(`${apiUrl}/api/v1/nodes`, { tls })).body) as NodeList;
    const ready = list.items.filter((n) =>
      n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    return ready.length >= shapes.length;
  });
  l.ready(`${shapes.length} kwok nodes`);
  return shapes.map((s) => s.name);
}

/** Like kind and most managed clusters: a default StorageClass named `standard` whose volumes are deleted with their claims. */
export const DEFAULT_STORAGE_CLASS = {
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: {
    name: "standard",
    annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
  },
  provisioner: LOCAL_PROVISIONER,
  reclaimPolicy: "Delete",
  volumeBindingMode: "WaitForFirstConsumer",
};

async function createDefaultStorageClass(
  l: Launcher,
  apiUrl: string,
  tls: ClientTls,
): Promise<void> {
  const res = await httpCall(`${apiUrl}/apis/storage.k8s.io/v1/storageclasses`, {
    method: "POST",
    body: DEFAULT_STORAGE_CLASS,
    tls,
  });
  if (res.status !== 201 && res.status !== 409)
    throw new Error(`creating StorageClass standard failed: HTTP ${res.status} ${res.body}`);
  l.ready("default StorageClass standard");
}

async function waitForServiceAccounts(l: Launcher, apiUrl: string, tls: ClientTls): Promise<void> {
  const kcm = l.started.find((p) => p.name === "kube-controller-manager");
  if (!kcm) throw new Error("kube-controller-manager is not running");
  await waitFor(kcm, "creating the default ServiceAccount", async () => {
    const url = `${apiUrl}/api/v1/namespaces/default/serviceaccounts/default`;
    return (await httpCall(url, { tls })).status === 200;
  });
  l.ready("default ServiceAccount");
}

function writeEnvFile(layout: RunLayout, state: ClusterState): void {
  const lines = Object.entries(clusterEnvironment(state)).map(([k, v]) => `export ${k}=${v}`);
  writeFileSync(layout.envFile, `${lines.join("\n")}\n`);
}

/** The environment a shell or a test process needs to use this control plane. */
export function clusterEnvironment(state: ClusterState): Record<string, string> {
  return {
    KUBECONFIG: state.kubeconfig,
    KUBEPLUS_RUN_DIR: state.runDir,
    NATS_URL: state.natsUrl,
    // A shell acts on NATS as the provider's tools do (see libs/contracts: requests kubeconfigs, reads events).
    NATS_CA_FILE: state.natsCaFile,
    NATS_CERT_FILE: natsCredentialFiles(state.natsAuthDir, "provider").certFile,
    NATS_KEY_FILE: natsCredentialFiles(state.natsAuthDir, "provider").keyFile,
    ...toolEnvironment(state.tools),
  };
}

async function startOnce(
  options: UpOptions,
  tools: ToolPaths,
  network: NetworkPlan,
): Promise<ClusterState> {
  const layout = runLayout(options.runDir);
  // A crashed run may have left real nodes' volume filesystems mounted: never remove files through a mount.
  unmountVolumes(join(layout.root, "volumes"));
  rmSync(layout.root, { recursive: true, force: true });
  for (const dir of [
    layout.logs,
    layout.pids,
    layout.etcdData,
    layout.natsData,
    layout.identities,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  const [etcd, etcdPeer, apiServer, controllerManager, scheduler, kwok, nats, natsMonitor] =
    await freePorts(PORT_NAMES.length);
  const ports = {
    etcd,
    etcdPeer,
    apiServer,
    controllerManager,
    scheduler,
    kwok,
    nats,
    natsMonitor,
  } as Ports;
  const [pki, natsFiles] = await Promise.all([
    generatePki(layout.pki, network.kubernetesServiceIp, network.kwokNodeIp),
    generateNatsAuth(layout.natsAuth),
  ]);
  writeFileSync(
    natsFiles.config,
    natsServerConfig({
      port: ports.nats,
      monitorPort: ports.natsMonitor,
      storeDir: layout.natsData,
      files: natsFiles,
    }),
  );
  // The apiserver presents a client certificate of its own CA to admission webhooks (crd-hook verifies it).
  const webhookClient = await writeWebhookClient(layout.pki);
  const apiUrl = `https://127.0.0.1:${ports.apiServer}`;
  const kubeconfigs = {
    controllerManager: join(layout.root, "controller-manager.kubeconfig"),
    scheduler: join(layout.root, "scheduler.kubeconfig"),
    kwok: join(layout.root, "kwok.kubeconfig"),
  };
  writeKubeconfig(layout.adminKubeconfig, apiUrl, pki, "admin");
  writeKubeconfig(kubeconfigs.controllerManager, apiUrl, pki, "controller-manager");
  writeKubeconfig(kubeconfigs.scheduler, apiUrl, pki, "scheduler");
  writeKubeconfig(kubeconfigs.kwok, apiUrl, pki, "kwok");
  const ctx: ComponentContext = {
    ports,
    pki,
    layout,
    kubeconfigs,
    kwokConfigDir: join(repoRoot, "hack", "dev", "kwok"),
    network,
    apiServerArgs: [
      `--admission-control-config-file=${webhookClient.admissionConfig}`,
      ...(options.apiServerArgs ?? []),
    ],
  };
  writeFileSync(kwokLogsConfigPath(layout.root), kwokLogsConfig(ctx.kwokConfigDir));
  const launcher = new Launcher(tools, layout, options.report);
  const tls = adminTls(pki);
  try {
    await startStorageAndBroker(launcher, ctx);
    await startControlPlane(launcher, ctx, tls);
    const nodes = await createNodes(launcher, apiUrl, tls, options);
    await createDefaultStorageClass(launcher, apiUrl, tls);
    launcher.start(provisionerSpec(ctx, join(repoRoot, "hack", "dev", "dist", "cli.js")));
    launcher.ready("local volume provisioner");
    await waitForServiceAccounts(launcher, apiUrl, tls);
    const nodeImages =
      network.nodes.length === 0 ? [] : (options.nodeImages ?? (await realNodeImages(options)));
    const realNodeProcesses = await startRealNodes({
      plan: network,
      tools,
      runDir: layout.root,
      logDir: layout.logs,
      pidDir: layout.pids,
      ca: readClusterCa(pki),
      caFile: pki.caCert,
      apiServerPort: ports.apiServer,
      kwokPort: ports.kwok,
      apiUrl,
      tls,
      cli: join(repoRoot, "hack", "dev", "dist", "cli.js"),
      images: nodeImages,
      sandboxImage: nodeImages.find((i) => i.name === "pause")?.ref ?? "",
      report: (line) => {
        launcher.ready(line);
      },
      warn: options.report,
      env: options.env,
    });
    const state: ClusterState = {
      runDir: layout.root,
      startedAt: new Date().toISOString(),
      readyInMs: launcher.elapsedMs(),
      apiServerUrl: apiUrl,
      natsUrl: `nats://127.0.0.1:${ports.nats}`,
      natsMonitorUrl: `http://127.0.0.1:${ports.natsMonitor}`,
      natsAuthDir: natsFiles.dir,
      natsCaFile: natsFiles.caFile,
      kubeconfig: layout.adminKubeconfig,
      ports,
      tools,
      nodes,
      processes: launcher.started,
      network,
      realNodes: network.nodes.map((n) => n.name),
      realNodeProcesses,
    };
    writeFileSync(layout.state, `${JSON.stringify(state, null, 2)}\n`);
    writeEnvFile(layout, state);
    return state;
  } catch (err) {
    await stopAll(launcher.started, layout, () => undefined);
    throw err;
  }
}

function isPortClash(err: unknown): boolean {
  return (
    err instanceof ComponentFailedError && /address already in use/i.test(tailFile(err.log, 40))
  );
}

/** Starts the whole control plane, or returns the running one when it is healthy. */
export async function up(options: UpOptions): Promise<{ state: ClusterState; reused: boolean }> {
  const existing = readState(options.runDir);
  if (existing && (await isHealthy(existing))) return { state: existing, reused: true };
  if (existing) await down(options.runDir, options.report);
  const tools = ensureTools(options.env);
  const slot = options.realNodes > 0 ? await acquireSlot(options.runDir, options.report) : 0;
  const network = networkPlan(slot, options.realNodes);
  try {
    return { state: await startWithRetries(options, tools, network), reused: false };
  } catch (err) {
    if (options.realNodes > 0) releaseSlot(slot, options.runDir);
    throw err;
  }
}

async function startWithRetries(
  options: UpOptions,
  tools: ToolPaths,
  network: NetworkPlan,
): Promise<ClusterState> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, tools, network);
    } catch (err) {
      if (attempt >= 3 || !isPortClash(err)) throw err;
      options.report(
        `a port was taken while starting; retrying with new ports (attempt ${attempt + 1})`,
      );
    }
  }
}

async function stopAll(
  processes: readonly ManagedProcess[],
  layout: RunLayout,
  report: (line: string) => void,
): Promise<void> {
  // Reverse start order: clients before the servers they talk to.
  for (const proc of [...processes].reverse()) {
    const outcome = await stopProcess(proc, layout.pids);
    if (outcome !== "not-running") report(`${proc.name} (pid ${proc.pid}) ${outcome}`);
  }
}

/** Stops exactly the processes `up` started, by their PIDs, and removes the run folder's data. */
export async function down(runDir: string, report: (line: string) => void): Promise<boolean> {
  const state = readState(runDir);
  if (!state) return false;
  const layout = runLayout(runDir);
  // A state written before real nodes existed has neither field.
  const network = state.network as NetworkPlan | undefined;
  if (network && network.nodes.length > 0) {
    await stopRealNodes({
      slot: network.slot,
      runDir,
      processes: state.realNodeProcesses,
      pidDir: layout.pids,
      report,
    });
  }
  await stopAll(state.processes, layout, report);
  const unmounted = unmountVolumes(join(layout.root, "volumes"));
  if (unmounted > 0) report(`unmounted ${unmounted} volume filesystems`);
  rmSync(layout.etcdData, { recursive: true, force: true });
  rmSync(layout.natsData, { recursive: true, force: true });
  rmSync(layout.state, { force: true });
  return true;
}

export interface ComponentStatus {
  readonly name: string;
  readonly pid: number;
  readonly running: boolean;
  readonly log: string;
}

export function componentStatus(state: ClusterState): ComponentStatus[] {
  return [
    ...state.processes,
    ...((state.realNodeProcesses as ManagedProcess[] | undefined) ?? []),
  ].map((p) => ({
    name: p.name,
    pid: p.pid,
    running: isRunning(p),
    log: p.log,
  }));
}

/** Every process alive and the apiserver ready. */
export async function isHealthy(state: ClusterState): Promise<boolean> {
  // A control plane started before NATS required credentials is replaced, not reused.
  if (!state.natsAuthDir || !existsSync(state.natsAuthDir)) return false;
  if (!componentStatus(state).every((c) => c.running)) return false;
  const tls = adminTls(pkiPaths(runLayout(state.runDir).pki));
  return (await probe(`${state.apiServerUrl}/readyz`, tls)) === 200;
}

/**
 * What a real node's containerd holds from its start: the nodes' images (hack/images: pause, the stand-ins, NATS)
 * and the four KubePlus service images (bundled from the services' dist: `tsc -b` first), so the chart's pods run
 * there with `imagePullPolicy: IfNotPresent` (image.registry localhost/kubeplus, or the chart's default registry,
 * under which they are imported too).
 */
async function realNodeImages(options: {
  readonly env: NodeJS.ProcessEnv;
  readonly report?: (line: string) => void;
}): Promise<BuiltImage[]> {
  const nodes = await buildImages({ env: options.env, report: options.report });
  const services = await buildImages({ env: options.env, report: options.report, services: true });
  return [...nodes, ...services];
}
