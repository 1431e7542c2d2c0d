import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import type { ClusterState } from "./cluster.js";
import { imageReference } from "./images.js";
import { repoRoot } from "./paths.js";
import { REAL_NODE_LABEL } from "./real-node-config.js";

const run = promisify(execFile);

/**
 * The services the chart runs on `make up` (the four, and the console, which the chart's defaults leave off), each a
 * Deployment of the KubePlus namespace (`make logs SERVICE=<name>`).
 */
export const STACK_SERVICES = [
  "helmer",
  "kubeconfig-generator",
  "crd-hook",
  "metrics-collector",
  "console",
] as const;
export type StackService = (typeof STACK_SERVICES)[number];

export interface StackState {
  readonly dir: string;
  readonly namespace: string;
  readonly release: string;
  /** The provider kubeconfig: what the chart was installed with and what its pods act as. */
  readonly providerKubeconfig: string;
  readonly adminKubeconfig: string;
  /** The values `make up` installed the chart with (local-values.yaml): the images built here, the real nodes. */
  readonly valuesFile: string;
  readonly readyInMs: number;
}

export interface StackOptions {
  readonly cluster: ClusterState;
  /** Where the stack keeps its kubeconfig, values and state (default: <cluster run dir>/../stack). */
  readonly dir: string;
  readonly namespace: string;
  readonly release?: string;
  /** The chart to install (default: deploy/charts/kubeplus of this repository). */
  readonly chart?: string;
  /** Extra `--set` values for the chart. */
  readonly set?: readonly string[];
  readonly report: (line: string) => void;
  /** The caller's environment (PATH is passed on to helm). */
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

/**
 * The chart's values on the local control plane, beside its defaults: the images `up` built and loaded into the real
 * nodes' containerd (nothing is pulled), every pod on a real node (kwok's nodes run no process), and the collector
 * reading the kubelets every 10 s, the cluster's pod and Service ranges for the network policies. Pure: the README and the demo show the file it becomes.
 */
export function localValues(
  cluster: Pick<ClusterState, "realNodes" | "apiServerUrl"> & {
    readonly network: Pick<ClusterState["network"], "clusterCidr" | "serviceCidr">;
  },
): Record<string, unknown> {
  if (cluster.realNodes.length === 0)
    throw new Error(
      "KubePlus runs as pods on real nodes and this control plane has none: start it with 'kubeplus-dev up' (one real node by default), not --real-nodes 0",
    );
  return {
    image: { registry: "localhost/kubeplus", pullPolicy: "IfNotPresent" },
    nats: { image: imageReference("nats") },
    nodeSelector: { [REAL_NODE_LABEL]: "true" },
    tolerations: [{ key: REAL_NODE_LABEL, operator: "Exists", effect: "NoSchedule" }],
    metricsCollector: { intervalSeconds: 10 },
    // Tenants' egress ipBlocks leave out every pod and Service address; crd-hook's port admits only the apiserver's.
    networkPolicy: { clusterCIDRs: [cluster.network.clusterCidr, cluster.network.serviceCidr] },
    // The console, off in the chart's defaults. Pods reach the apiserver at each real node's forwarder, on the
    // apiserver's own port (the `kubernetes` Service's endpoints): its NetworkPolicy lets it reach that port only.
    console: {
      enabled: true,
      networkPolicy: { apiServerPorts: [Number(new URL(cluster.apiServerUrl).port)] },
    },
  };
}

/** Where `make up`'s console is reached from this machine: kubectl port-forward to this local port. */
export const CONSOLE_LOCAL_PORT = 8080;

/**
 * How to reach the console `make up` runs and whom to sign in as: the port-forward command (to 127.0.0.1 only), the
 * URL, and where the provider's and the built-in consumer's kubeconfigs are.
 */
export function consoleAccess(
  state: Pick<StackState, "namespace" | "providerKubeconfig" | "adminKubeconfig">,
): string[] {
  const ns = state.namespace;
  return [
    "The console (it has no rights of its own: you sign in with a kubeconfig, and RBAC decides what you see):",
    `  kubectl --kubeconfig ${state.adminKubeconfig} port-forward -n ${ns} svc/console ${String(CONSOLE_LOCAL_PORT)}:80 --address 127.0.0.1`,
    `  then open http://localhost:${String(CONSOLE_LOCAL_PORT)}/ and sign in with a kubeconfig (upload or paste):`,
    `    the provider's:          ${state.providerKubeconfig}`,
    `    the built-in consumer's: kubectl --kubeconfig ${state.adminKubeconfig} get secret kubeplus-saas-consumer-kubeconfig -n ${ns} \\`,
    `                               -o jsonpath='{.data.kubeplus-saas-consumer\\.json}' | base64 -d > kubeplus-saas-consumer.json`,
  ];
}

/** Values as YAML for helm's `-f` (JSON is YAML), with a header saying where they come from. */
export function localValuesFile(values: Record<string, unknown>): string {
  return [
    "# KubePlus on the local control plane (written by `make up`, hack/dev/src/stack.ts localValues):",
    "# the images built here and loaded into the real nodes, the pods on the real nodes.",
    JSON.stringify(values, null, 2),
    "",
  ].join("\n");
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
    ],
    { cwd: options.dir },
  );
  return file;
}

async function kubectl(cluster: ClusterState, args: readonly string[]): Promise<string> {
  const { stdout } = await run(cluster.tools.kubectl, [
    "--kubeconfig",
    cluster.kubeconfig,
    ...args,
  ]);
  return stdout;
}

/**
 * `make up`'s second half: the provider identity, its namespace held to the restricted Pod Security profile, and
 * `helm upgrade --install` of the KubePlus chart with the provider kubeconfig; helm waits until the four services and
 * NATS run as Ready pods on the real nodes. No service runs as a local process.
 */
export async function stackUp(options: StackOptions): Promise<StackState> {
  const started = Date.now();
  mkdirSync(options.dir, { recursive: true });
  const provider = await providerKubeconfig(options);
  // provider-kubeconfig labels the namespace baseline (what tenants' charts may need); the chart's own pods meet
  // restricted, which this namespace then enforces.
  await kubectl(options.cluster, [
    "label",
    "--overwrite",
    "namespace",
    options.namespace,
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/enforce-version=latest",
  ]);
  const valuesFile = join(options.dir, "local-values.yaml");
  writeFileSync(valuesFile, localValuesFile(localValues(options.cluster)));
  const release = options.release ?? "kubeplus";
  const chart = options.chart ?? join(repoRoot, "deploy", "charts", "kubeplus");
  options.report(
    `helm upgrade --install ${release} ${chart} -n ${options.namespace} -f ${valuesFile} (as the provider; waits for the pods)`,
  );
  await helm(
    options,
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
      "-f",
      valuesFile,
      "--wait",
      "--timeout",
      "300s",
      ...(options.set ?? []).flatMap((s) => ["--set", s]),
    ],
    options.env.PATH,
  );
  const state: StackState = {
    dir: options.dir,
    namespace: options.namespace,
    release,
    providerKubeconfig: provider,
    adminKubeconfig: options.cluster.kubeconfig,
    valuesFile,
    readyInMs: Date.now() - started,
  };
  writeFileSync(stackStateFile(options.dir), `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/** `kubectl get pods -o wide` of the KubePlus namespace, as the administrator. */
export function stackPods(cluster: ClusterState, state: StackState): Promise<string> {
  return kubectl(cluster, ["get", "pods", "-n", state.namespace, "-o", "wide"]);
}

/**
 * Uninstalls the release `stackUp` installed (its pods stop; tenants and CRDs stay, as `helm uninstall` documents)
 * and forgets the stack. A control plane that is gone already leaves nothing to uninstall.
 */
export async function stackDown(
  cluster: ClusterState | undefined,
  dir: string,
  report: (line: string) => void,
): Promise<boolean> {
  const state = readStack(dir);
  if (!state) return false;
  if (cluster)
    try {
      await helm(state, cluster, [
        "uninstall",
        state.release,
        "-n",
        state.namespace,
        "--kubeconfig",
        state.providerKubeconfig,
        "--wait",
        "--timeout",
        "120s",
        "--ignore-not-found",
      ]);
      report(`helm release ${state.release} uninstalled from ${state.namespace}`);
    } catch (err) {
      report(`helm uninstall ${state.release} failed: ${String(err)}`);
    }
  rmSync(stackStateFile(dir), { force: true });
  return true;
}

/**
 * `make logs SERVICE=<name> [INSTANCE=<name>]`: `kubectl logs -f` of the service's pods (every replica, prefixed),
 * as the administrator; with an instance, only the lines about it (the services log `"name":"<instance>"`).
 * Resolves with kubectl's exit code.
 */
export function followLogs(
  cluster: ClusterState,
  state: StackState,
  which: { readonly service: string; readonly instance?: string | undefined },
  out: NodeJS.WritableStream,
): Promise<number> {
  const { service, instance } = which;
  if (!(STACK_SERVICES as readonly string[]).includes(service))
    return Promise.reject(
      new Error(`unknown service '${service}': one of ${STACK_SERVICES.join(", ")}`),
    );
  const args = [
    "--kubeconfig",
    cluster.kubeconfig,
    "logs",
    "-n",
    state.namespace,
    "-l",
    `app.kubernetes.io/name=${service}`,
    "--prefix",
    "--follow",
    "--max-log-requests=8",
    instance ? "--tail=-1" : "--tail=50",
  ];
  const child = spawn(cluster.tools.kubectl, args, { stdio: ["ignore", "pipe", "inherit"] });
  const needle = instance ? `"name":"${instance}"` : undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!needle || line.includes(needle)) out.write(`${line}\n`);
  });
  return new Promise((resolve) => {
    child.on("close", (code) => {
      resolve(code ?? 1);
    });
  });
}
