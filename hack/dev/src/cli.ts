#!/usr/bin/env node
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import {
  clusterEnvironment,
  componentStatus,
  down,
  isHealthy,
  readState,
  up,
  type ClusterState,
} from "./cluster.js";
import { formatAudit, summarizeAudit } from "./audit.js";
import { mintIdentity } from "./identity.js";
import { adminTls } from "./http.js";
import { defaultRunDir, repoRoot } from "./paths.js";
import { DemoStepFailed, runDemo } from "./demo.js";
import { pkiPaths } from "./pki.js";
import { imagesCommand } from "./images-cli.js";
import { forward, parseEndpoint } from "./forward.js";
import { runProvisioner } from "./provisioner.js";
import {
  consoleAccess,
  followLogs,
  readStack,
  stackDown,
  stackPods,
  stackStateFile,
  stackUp,
  type StackState,
} from "./stack.js";

const HELP = `kubeplus-dev: a real local Kubernetes control plane for KubePlus development and tests.

Usage:
  kubeplus-dev up [--nodes N] [--max-pods N]   start etcd, kube-apiserver, kube-controller-manager,
                                               kube-scheduler, kwok (N fake nodes) and nats-server;
     [--real-nodes N]                          and N real nodes (default 1; 0: none): kubelet, containerd,
                                               kube-proxy, kube-router, CoreDNS in network namespaces (root;
                                               docs/real-nodes.md)
     [--apiserver-arg=--FLAG=V]...             extra kube-apiserver flags (an audit log, say)
  kubeplus-dev down                            stop exactly the processes 'up' started (by PID)
  kubeplus-dev status                          components, PIDs, endpoints and log files
  kubeplus-dev env                             'export' lines for a shell: eval "$(kubeplus-dev env)"
  kubeplus-dev identity <user> [--group G]...  mint a non-admin client-certificate kubeconfig; prints its path
  kubeplus-dev stack up [--namespace NS]       on a running control plane: create the provider identity, helm
                                               install the KubePlus chart with it and the images built here; the
                                               four services and NATS run as pods on the real nodes (what
                                               'make up' does after 'up')
  kubeplus-dev stack down                      helm uninstall what 'stack up' installed (tenants and CRDs stay)
  kubeplus-dev stack status                    the release and its pods (kubectl get pods -o wide)
  kubeplus-dev logs <service> [--instance I]   kubectl logs -f of a service's pods ('make logs'); with an
                                               instance, only the lines about it
  kubeplus-dev demo                            the seed's walkthrough on the running stack, each command printed
                                               with its output; exits 1 at the first step that does not do what
                                               it says ('make demo')
  kubeplus-dev images build [--only NAME]...   build the OCI images the real nodes run (hack/images) into
     [--all] [--json]                          $KUBEPLUS_TOOLS_DIR/images, skipping what is up to date; prints
                                               each reference and its archive (for ctr images import); --all
                                               adds the optional ones (mariadb: downloads Debian packages)
  kubeplus-dev images build --services         the four KubePlus service images (crd-hook, helmer,
     [--json]                                  kubeconfig-generator, metrics-collector): Node.js from pinned
                                               Debian packages, each service bundled (run tsc -b first)
  kubeplus-dev images lock                     pin the Node.js base's Debian packages to what Debian offers now
                                               (hack/images/nodejs/packages-<arch>.lock)
  kubeplus-dev audit <log> [--from S] [--per N] requests in a kube-apiserver audit log (JSON lines) by client,
                                               verb and resource; from the first whose URI contains S; counts
                                               divided by N (per instance, say)

Options:
  --run-dir DIR   where state, PKI and logs live (default: $KUBEPLUS_RUN_DIR or <repo>/.run/cluster)
  -h, --help      show this help

Everything binds to 127.0.0.1 on free ports. Binaries come from hack/tools/ensure-tools.sh (built once from the
Go module proxy into ~/.cache/kubeplus/tools; override with KUBE_APISERVER_BIN, ETCD_BIN, KWOK_BIN, ...).`;

const report = (line: string): void => {
  process.stderr.write(`[dev] ${line}\n`);
};

function requireState(runDir: string): ClusterState {
  const state = readState(runDir);
  if (!state) {
    throw new Error(`no control plane is running from ${runDir}; start one with 'make cluster-up'`);
  }
  return state;
}

function printUsage(state: ClusterState): void {
  process.stdout.write(
    [
      `Control plane ready in ${(state.readyInMs / 1000).toFixed(1)}s (${state.nodes.length} kwok nodes, ${state.realNodes.length} real: ${state.realNodes.join(", ") || "none"}).`,
      `  kubectl --kubeconfig ${state.kubeconfig} get nodes`,
      `  export KUBECONFIG=${state.kubeconfig}      # or: eval "$(node hack/dev/dist/cli.js env)"`,
      `  API server:  ${state.apiServerUrl}`,
      `  NATS:        ${state.natsUrl} (monitor ${state.natsMonitorUrl}); TLS with client certificates only,`,
      `               one per identity in ${state.natsAuthDir} (CA ca.crt, <identity>.crt/.key)`,
      `  Logs:        ${state.runDir}/logs/<component>.log`,
      "",
    ].join("\n"),
  );
}

async function status(runDir: string): Promise<number> {
  const state = readState(runDir);
  if (!state) {
    process.stdout.write(`No control plane is running from ${runDir}.\n`);
    return 1;
  }
  const rows = componentStatus(state).map(
    (c) =>
      `${c.name.padEnd(26)}${String(c.pid).padEnd(9)}${(c.running ? "Running" : "Stopped").padEnd(10)}${c.log}`,
  );
  process.stdout.write(
    `${"COMPONENT".padEnd(26)}${"PID".padEnd(9)}${"STATUS".padEnd(10)}LOG\n${rows.join("\n")}\n`,
  );
  const healthy = await isHealthy(state);
  process.stdout.write(`\nAPI server ${state.apiServerUrl}: ${healthy ? "ready" : "NOT ready"}\n`);
  process.stdout.write(`Kubeconfig: ${state.kubeconfig}\nNATS: ${state.natsUrl}\n`);
  return healthy ? 0 : 1;
}

const stackDir = (runDir: string): string => join(dirname(runDir), "stack");

async function stackCommand(runDir: string, rest: string[], values: CliValues): Promise<number> {
  const [action] = rest;
  const dir = stackDir(runDir);
  if (action === "up") {
    const cluster = requireState(runDir);
    const state = await stackUp({
      cluster,
      dir,
      namespace: values.namespace ?? "kubeplus",
      report,
      env: process.env,
    });
    await printStack(cluster, state);
    return 0;
  }
  if (action === "down") {
    if (!(await stackDown(readState(runDir), dir, report)))
      report(`KubePlus was not installed from ${dir}`);
    return 0;
  }
  if (action === "status") {
    const state = readStack(dir);
    const cluster = readState(runDir);
    if (!state || !cluster) {
      process.stdout.write(`KubePlus is not installed from ${dir} (make up installs it).\n`);
      return 1;
    }
    await printStack(cluster, state);
    return 0;
  }
  throw new Error("stack needs an action: up, down or status");
}

async function printStack(cluster: ClusterState, state: StackState): Promise<void> {
  const pods = await stackPods(cluster, state);
  process.stdout.write(
    [
      `KubePlus is installed in namespace ${state.namespace} (helm release ${state.release}, as the provider; ready in ${(state.readyInMs / 1000).toFixed(0)} s), its values: ${state.valuesFile}`,
      "",
      `$ kubectl get pods -n ${state.namespace} -o wide`,
      pods.trimEnd(),
      "",
      "  export KUBECONFIG=" + state.adminKubeconfig + "            # the cluster administrator",
      "  Provider kubeconfig (no cluster-admin): " + state.providerKubeconfig,
      `  kubectl get resourcecompositions -n ${state.namespace} --kubeconfig ${state.providerKubeconfig}`,
      "  PATH=$PWD/bin/plugins:$PATH kubectl kubeplus commands   # the kubectl plugins (make plugins)",
      "  make logs SERVICE=helmer [INSTANCE=<name>]             # kubectl logs -f of a service's pods",
      `  kubectl port-forward -n ${state.namespace} svc/metrics-collector 9090   # then curl localhost:9090/metrics`,
      "",
      ...consoleAccess(state),
      "",
      "Stop everything with: make down",
      "",
    ].join("\n"),
  );
}

async function logsCommand(runDir: string, rest: string[], instance?: string): Promise<number> {
  const [service] = rest;
  if (!service)
    throw new Error("logs needs a service: kubeplus-dev logs <service> [--instance NAME]");
  const state = readStack(stackDir(runDir));
  if (!state) throw new Error("KubePlus is not installed here; start it with 'make up'");
  return followLogs(requireState(runDir), state, { service, instance }, process.stdout);
}

async function demoCommand(runDir: string): Promise<number> {
  const stack = readStack(stackDir(runDir));
  if (!stack)
    throw new Error("KubePlus is not running here; start it with 'make up' (make demo does)");
  const workDir = mkdtempSync(join(tmpdir(), "kubeplus-demo-"));
  const started = Date.now();
  process.stdout.write(
    `The KubePlus walkthrough, as a user types it (working folder ${workDir}).\n`,
  );
  try {
    await runDemo({
      cluster: requireState(runDir),
      stack,
      workDir,
      sharedCharts: process.env.KUBEPLUS_SHARED_CHARTS ?? join(repoRoot, "..", "shared", "charts"),
      env: process.env,
      out: (text) => process.stdout.write(text),
    });
  } catch (err) {
    if (!(err instanceof DemoStepFailed)) throw err;
    process.stderr.write(`\ndemo: ${err.message}\nService logs: make logs SERVICE=<name>\n`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `\nDemo passed in ${seconds} s. KubePlus keeps running; 'make down' stops everything.\n\n${consoleAccess(stack).join("\n")}\n`,
  );
  return 0;
}

interface CliValues {
  readonly nodes: string;
  readonly "real-nodes": string;
  readonly "max-pods": string;
  readonly "apiserver-arg"?: string[];
  readonly group?: string[];
  readonly namespace?: string;
  readonly instance?: string;
}

async function upCommand(runDir: string, values: CliValues): Promise<number> {
  const nodes = Number(values.nodes);
  const maxPods = Number(values["max-pods"]);
  const realNodes = Number(values["real-nodes"]);
  if (!Number.isInteger(realNodes) || realNodes < 0)
    throw new Error("--real-nodes must be a whole number >= 0 (0: kwok nodes only)");
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error("--nodes must be a whole number >= 1");
  if (!Number.isInteger(maxPods) || maxPods < 1)
    throw new Error("--max-pods must be a whole number >= 1");
  const apiServerArgs = values["apiserver-arg"] ?? [];
  const bad = apiServerArgs.find((a) => !a.startsWith("--"));
  if (bad) throw new Error(`--apiserver-arg takes a kube-apiserver flag such as --v=2, not ${bad}`);
  const { state, reused } = await up({
    runDir,
    nodes,
    realNodes,
    maxPods,
    apiServerArgs,
    env: process.env,
    report,
  });
  if (reused) report("already running; reusing it");
  printUsage(state);
  return 0;
}

async function downCommand(runDir: string): Promise<number> {
  // KubePlus's pods stop with the nodes: nothing to uninstall, only the stack's record to forget.
  rmSync(stackStateFile(stackDir(runDir)), { force: true });
  if (!(await down(runDir, report))) report(`nothing to stop in ${runDir}`);
  return 0;
}

function envCommand(runDir: string): number {
  const env = clusterEnvironment(requireState(runDir));
  process.stdout.write(
    Object.entries(env)
      .map(([k, v]) => `export ${k}=${v}\n`)
      .join(""),
  );
  return 0;
}

async function identityCommand(runDir: string, rest: string[], values: CliValues): Promise<number> {
  const [user] = rest;
  if (!user)
    throw new Error("identity needs a user name: kubeplus-dev identity <user> [--group G]");
  const path = await mintIdentity(requireState(runDir), { user, groups: values.group ?? [] });
  process.stdout.write(`${path}\n`);
  return 0;
}

function auditCommand(rest: string[], values: { from?: string; per?: string }): number {
  const [log] = rest;
  if (!log)
    throw new Error("audit needs a log file: kubeplus-dev audit <log> [--from S] [--per N]");
  const per = Number(values.per ?? "1");
  if (!(per > 0)) throw new Error("--per must be a number > 0");
  const summary = summarizeAudit(readFileSync(log, "utf8").split("\n"), values.from);
  process.stdout.write(formatAudit(summary, per));
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "run-dir": { type: "string" },
      nodes: { type: "string", default: "3" },
      "real-nodes": { type: "string", default: "1" },
      "max-pods": { type: "string", default: "110" },
      "apiserver-arg": { type: "string", multiple: true },
      group: { type: "string", multiple: true },
      namespace: { type: "string", short: "n" },
      instance: { type: "string" },
      help: { type: "boolean", short: "h" },
      api: { type: "string" },
      from: { type: "string" },
      per: { type: "string", default: "1" },
      pki: { type: "string" },
      "volumes-dir": { type: "string" },
      only: { type: "string", multiple: true },
      json: { type: "boolean" },
      all: { type: "boolean" },
      services: { type: "boolean" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${HELP}\n`);
    return values.help ? 0 : 2;
  }
  const runDir = values["run-dir"] ?? defaultRunDir(process.env);
  const commands: Record<string, () => Promise<number> | number> = {
    up: () => upCommand(runDir, values),
    down: () => downCommand(runDir),
    status: () => status(runDir),
    env: () => envCommand(runDir),
    identity: () => identityCommand(runDir, rest, values),
    stack: () => stackCommand(runDir, rest, values),
    demo: () => demoCommand(runDir),
    logs: () => logsCommand(runDir, rest, values.instance),
    audit: () => auditCommand(rest, values),
    images: () =>
      imagesCommand(rest, {
        only: values.only,
        all: values.all,
        services: values.services,
        json: values.json,
        env: process.env,
      }),
    // Internal: the local volume provisioner component that `up` starts.
    provisioner: () =>
      runProvisioner(
        values.api ?? "",
        adminTls(pkiPaths(values.pki ?? "")),
        values["volumes-dir"] ?? undefined,
      ),
    // Internal: the apiserver's way into the real nodes' network namespaces (forward.ts).
    forward: async () => {
      const [from, to] = rest;
      if (!from || !to) throw new Error("forward needs two endpoints: forward <listen> <dial>");
      await forward(parseEndpoint(from), parseEndpoint(to));
      return new Promise<number>(() => undefined);
    },
  };
  const handler = commands[command];
  if (!handler) {
    process.stderr.write(`kubeplus-dev: unknown command '${command}'\n\n${HELP}\n`);
    return 2;
  }
  return handler();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kubeplus-dev: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
