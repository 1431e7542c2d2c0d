import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CertificateUsage, issueCertificate, type KeyPair } from "@kubeplus/tls";
import type { ToolPaths } from "./components.js";
import { httpCall, type ClientTls } from "./http.js";
import { importImages, type BuiltImage } from "./images.js";
import { buildKubeconfig } from "./kubeconfig.js";
import { MAX_SLOTS, type NetworkPlan, type RealNodePlan } from "./network-plan.js";
import {
  isRunning,
  problemLines,
  startProcess,
  stopProcess,
  type ManagedProcess,
} from "./process.js";
import {
  containerdConfig,
  corefile,
  cniConflist,
  kubeletConfig,
  kubeProxyConfig,
  kubeRouterArgs,
  nodeDirs,
  REAL_NODE_LABEL,
  type NodeDirs,
} from "./real-node-config.js";

/**
 * The host shell around real-node-config.ts: network namespaces, veths, cgroups, certificates and the node
 * processes (containerd, kubelet, kube-proxy, kube-router, CoreDNS), and the cleanup that removes all of it.
 * Needs root (network namespaces, mounts, cgroups); `up --real-nodes 0` needs none of this.
 */

const SLOT_DIR = "/run/kubeplus-dev/slots";
const CGROUP_FS = "/sys/fs/cgroup";
/** The v1 hierarchies a node's cgroup root is made in (kubelet needs cpu, cpuacct, cpuset, memory, pids). */
const CGROUP_CONTROLLERS = [
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "pids",
  "blkio",
  "devices",
  "freezer",
  "systemd",
];

export class RealNodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RealNodeError";
  }
}

function run(cmd: string, args: readonly string[], allowFail = false): string {
  const res = spawnSync(cmd, [...args], { encoding: "utf8" });
  if (res.error) throw new RealNodeError(`${cmd} could not run: ${res.error.message}`);
  if (res.status !== 0 && !allowFail) {
    throw new RealNodeError(
      `${cmd} ${args.join(" ")} failed: ${(res.stderr || res.stdout).trim()}`,
    );
  }
  return res.stdout;
}

/** What the real nodes need from this machine; a missing piece fails `up` loudly, naming it. */
export function checkHost(tools: ToolPaths): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0)
    problems.push("real nodes need root (network namespaces, mounts, cgroups)");
  for (const bin of [
    "/usr/sbin/ip",
    "/usr/bin/nsenter",
    "/usr/sbin/runc",
    "/usr/sbin/iptables",
    "/usr/sbin/ipset",
    // Claims on real nodes get loop-mounted ext4 filesystems of their size (provisioner.ts).
    "/usr/sbin/mkfs.ext4",
    "/usr/sbin/losetup",
  ]) {
    if (!existsSync(bin))
      problems.push(`${bin} is missing (hack/tools/ensure-node-packages.sh installs it)`);
  }
  for (const plugin of ["bridge", "host-local", "loopback", "portmap"]) {
    if (!existsSync(`/usr/lib/cni/${plugin}`))
      problems.push(
        `CNI plugin /usr/lib/cni/${plugin} is missing (Debian's containernetworking-plugins)`,
      );
  }
  for (const c of ["cpu", "cpuacct", "cpuset", "memory", "pids"]) {
    if (!existsSync(join(CGROUP_FS, c, "cgroup.procs")))
      problems.push(`the cgroup v1 hierarchy ${CGROUP_FS}/${c} is not mounted`);
  }
  for (const [name, path] of Object.entries({
    kubelet: tools.kubelet,
    "kube-proxy": tools.kubeProxy,
    containerd: tools.containerd,
    coredns: tools.coredns,
    "kube-router": tools.kubeRouter,
  })) {
    if (!existsSync(path)) problems.push(`${name} is not built at ${path} (make tools)`);
  }
  if (problems.length > 0)
    throw new RealNodeError(`this machine cannot run real nodes:\n  - ${problems.join("\n  - ")}`);
}

// ---- slots --------------------------------------------------------------------------------------------------

function slotFile(slot: number): string {
  return join(SLOT_DIR, `slot-${slot}`);
}

function slotOwner(slot: number): string | undefined {
  try {
    return readFileSync(slotFile(slot), "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A slot is stale when the control plane that took it no longer runs (its state is gone or its apiserver died). */
function slotIsStale(owner: string): boolean {
  const state = join(owner, "state.json");
  if (!existsSync(state)) return true;
  try {
    const parsed = JSON.parse(readFileSync(state, "utf8")) as { processes?: ManagedProcess[] };
    const api = parsed.processes?.find((p) => p.name === "kube-apiserver");
    return !api || !isRunning(api);
  } catch {
    return true;
  }
}

/**
 * Takes a free slot for `runDir` (its own first, after a crash), cleaning up what a dead control plane left in a
 * stale one.
 */
export async function acquireSlot(runDir: string, report: (line: string) => void): Promise<number> {
  mkdirSync(SLOT_DIR, { recursive: true });
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    if (slotOwner(slot) === runDir) {
      await cleanupSlot(slot, runDir, report);
      writeFileSync(slotFile(slot), `${runDir}\n`);
      return slot;
    }
  }
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const owner = slotOwner(slot);
    if (owner !== undefined) {
      if (!slotIsStale(owner)) continue;
      report(`slot ${slot} was left by ${owner}, which no longer runs; cleaning up after it`);
      await cleanupSlot(slot, owner, report);
      rmSync(slotFile(slot), { force: true });
    }
    try {
      const fd = openSync(slotFile(slot), "wx");
      writeFileSync(fd, `${runDir}\n`);
      closeSync(fd);
    } catch {
      continue;
    }
    await cleanupSlot(slot, runDir, report);
    return slot;
  }
  throw new RealNodeError(
    `all ${MAX_SLOTS} network slots are taken by running control planes (${SLOT_DIR}); stop one with 'down'`,
  );
}

export function releaseSlot(slot: number, runDir: string): void {
  if (slotOwner(slot) === runDir) rmSync(slotFile(slot), { force: true });
}

// ---- cleanup ------------------------------------------------------------------------------------------------

function cgroupDirs(root: string): string[] {
  const out: string[] = [];
  for (const c of CGROUP_CONTROLLERS) {
    const top = join(CGROUP_FS, c, root);
    if (!existsSync(top)) continue;
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) walk(join(dir, e.name));
      out.push(dir);
    };
    walk(top);
  }
  return out; // children before parents
}

function readProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, "cgroup.procs"), "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map(Number);
  } catch {
    return []; // removed meanwhile
  }
}

function pidsIn(root: string): number[] {
  return [...new Set(cgroupDirs(root).flatMap(readProcs))];
}

async function killCgroup(root: string): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = pidsIn(root);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
        killed++;
      } catch {
        // gone already
      }
    }
    await sleep(100);
  }
  for (const dir of cgroupDirs(root)) {
    try {
      rmSync(dir, { recursive: false, force: true });
    } catch {
      run("rmdir", [dir], true);
    }
  }
  return killed;
}

function linkTarget(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return ""; // not a link
  }
}

/** kubelet links every container's log into /var/log/containers (a fixed path); remove the links into ours. */
function removeContainerLogLinks(nodesDir: string): void {
  const dir = "/var/log/containers";
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir)) {
    const link = join(dir, e);
    if (linkTarget(link).startsWith(nodesDir)) rmSync(link, { force: true });
  }
}

/** The cgroup roots of a slot's nodes, in any v1 hierarchy. */
function slotCgroupRoots(slot: number): Set<string> {
  const prefix = `kubeplus-${slot}-node`;
  return new Set(
    CGROUP_CONTROLLERS.map((c) => join(CGROUP_FS, c))
      .filter((base) => existsSync(base))
      .flatMap((base) => readdirSync(base).filter((e) => e.startsWith(prefix)))
      .map((e) => `/${e}`),
  );
}

/** The host interfaces of a slot: its bridge and the nodes' veth ends. */
function slotLinks(slot: number): string[] {
  const links = run("ip", ["-o", "link", "show"], true);
  const pattern = new RegExp(`^\\d+: (kp${slot}(?:br|n\\d+))[@:]`, "gm");
  return [...links.matchAll(pattern)].map((m) => m[1] ?? "").filter(Boolean);
}

/** Mount points at or under `prefix`, deepest first. */
function mountsUnder(prefix: string): string[] {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  const points = text
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .map((p) => p.replace(/\\040/g, " "))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function netnsNames(): string[] {
  return run("ip", ["netns", "list"], true)
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter(Boolean);
}

/**
 * Removes everything a slot's real nodes may have left: processes in their cgroups (containers, shims, node
 * components), mounts under the run folder's nodes, network namespaces, host interfaces, cgroups, and the
 * /var/log/containers links into the run folder. Safe to run when nothing is left.
 */
export async function cleanupSlot(
  slot: number,
  runDir: string,
  report: (line: string) => void,
): Promise<void> {
  const nodesDir = join(runDir, "nodes");
  for (const root of slotCgroupRoots(slot)) {
    const killed = await killCgroup(root);
    if (killed > 0) report(`stopped ${killed} leftover processes in cgroup ${root}`);
  }
  for (const point of mountsUnder(nodesDir)) run("umount", ["-l", point], true);
  for (const ns of netnsNames().filter((n) => n.startsWith(`kp${slot}-node`))) {
    run("ip", ["netns", "delete", ns], true);
    report(`removed network namespace ${ns}`);
  }
  for (const link of slotLinks(slot)) run("ip", ["link", "delete", link], true);
  removeContainerLogLinks(nodesDir);
  if (mountsUnder(nodesDir).length === 0) rmSync(nodesDir, { recursive: true, force: true });
}

// ---- setup --------------------------------------------------------------------------------------------------

function setupFabric(plan: NetworkPlan): void {
  run("ip", ["link", "add", plan.bridge, "type", "bridge"]);
  run("ip", ["addr", "add", `${plan.hostIp}/${plan.fabricPrefix}`, "dev", plan.bridge]);
  run("ip", ["link", "set", plan.bridge, "up"]);
}

function setupNodeNetwork(plan: NetworkPlan, node: RealNodePlan): void {
  const ns = node.netns;
  run("ip", ["netns", "add", ns]);
  run("ip", ["link", "add", node.hostVeth, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  run("ip", ["link", "set", node.hostVeth, "master", plan.bridge, "up"]);
  const inNs = (...args: string[]): string => run("ip", ["-n", ns, ...args]);
  inNs("link", "set", "lo", "up");
  inNs("addr", "add", `${node.ip}/${plan.fabricPrefix}`, "dev", "eth0");
  inNs("link", "set", "eth0", "up");
  for (const other of plan.nodes) {
    if (other.index !== node.index) inNs("route", "add", other.podCidr, "via", other.ip);
  }
  // The host reaches each node's pods (metrics scrapes) through the node; it forwards nothing itself.
  run("ip", ["route", "add", node.podCidr, "via", node.ip, "dev", plan.bridge]);
  const sysctl = (key: string, value: string): void => {
    run("nsenter", [`--net=/run/netns/${ns}`, "--", "sysctl", "-qw", `${key}=${value}`]);
  };
  sysctl("net.ipv4.ip_forward", "1");
  sysctl("net.bridge.bridge-nf-call-iptables", "1");
}

/** A new v1 cpuset cgroup has no CPUs and no memory nodes until given its parent's. */
function inheritCpuset(dir: string): void {
  const parent = join(dir, "..");
  for (const f of ["cpuset.cpus", "cpuset.mems"])
    writeFileSync(join(dir, f), readFileSync(join(parent, f), "utf8").trim());
}

function setupCgroupRoot(node: RealNodePlan): void {
  for (const c of CGROUP_CONTROLLERS) {
    const base = join(CGROUP_FS, c);
    if (!existsSync(base)) continue;
    for (const dir of [join(base, node.cgroupRoot), join(base, node.cgroupRoot, "system")]) {
      mkdirSync(dir, { recursive: true });
      if (c === "cpuset") inheritCpuset(dir);
    }
  }
}

/** Moves a process into the node's `system` cgroup, so that `down` finds it and what it starts (shims). */
function adopt(node: RealNodePlan, pid: number): void {
  for (const c of CGROUP_CONTROLLERS) {
    const procs = join(CGROUP_FS, c, node.cgroupRoot, "system", "cgroup.procs");
    if (existsSync(procs)) writeFileSync(procs, `${pid}\n`);
  }
}

export interface RealNodeContext {
  readonly plan: NetworkPlan;
  readonly tools: ToolPaths;
  readonly runDir: string;
  readonly logDir: string;
  readonly pidDir: string;
  readonly ca: KeyPair;
  readonly caFile: string;
  readonly apiServerPort: number;
  /** kwok's kubelet endpoints on the host's loopback, forwarded from the first real node's address. */
  readonly kwokPort: number;
  readonly apiUrl: string;
  readonly tls: ClientTls;
  /** The CLI to start `kubeplus-dev forward` with. */
  readonly cli: string;
  /** Images to load into each node's containerd before its kubelet starts (images.ts builds them). */
  readonly images: readonly BuiltImage[];
  readonly sandboxImage: string;
  readonly report: (line: string) => void;
  /** Says what went wrong and what happens next (a retry), as it is: `report` lines end with "ready". */
  readonly warn: (line: string) => void;
  /** The environment node components start with (PATH is set per component). */
  readonly env: NodeJS.ProcessEnv;
}

async function writeIdentity(
  ctx: RealNodeContext,
  path: string,
  commonName: string,
  organizations: string[],
): Promise<void> {
  const pair = await issueCertificate({
    ca: ctx.ca,
    commonName,
    organizations,
    usage: CertificateUsage.Client,
    validityDays: 30,
  });
  writeFileSync(
    path,
    buildKubeconfig({
      // Inside a node's namespace the apiserver is the forwarder on the namespace's own loopback.
      server: `https://127.0.0.1:${ctx.apiServerPort}`,
      caPem: ctx.ca.certPem,
      user: commonName,
      certPem: pair.certPem,
      keyPem: pair.keyPem,
    }),
    { mode: 0o600 },
  );
}

interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
}

async function api(
  ctx: RealNodeContext,
  req: ApiRequest,
): Promise<{ status: number; body: string }> {
  return httpCall(`${ctx.apiUrl}${req.path}`, {
    method: req.method,
    tls: ctx.tls,
    ...(req.body === undefined ? {} : { body: req.body }),
    ...(req.contentType ? { contentType: req.contentType } : {}),
  });
}

const getNode = (ctx: RealNodeContext, name: string): Promise<{ status: number; body: string }> =>
  api(ctx, { method: "GET", path: `/api/v1/nodes/${name}` });

async function applyObject(
  ctx: RealNodeContext,
  path: string,
  body: Record<string, unknown>,
): Promise<void> {
  const name = (body.metadata as { name?: string } | undefined)?.name ?? "";
  // An object a first try made is kept (a Service's POST would fail on its taken cluster IP, not its name).
  if ((await api(ctx, { method: "GET", path: `${path}/${name}` })).status === 200) return;
  const res = await api(ctx, { method: "POST", path, body });
  if (res.status !== 201 && res.status !== 409)
    throw new RealNodeError(`creating ${path} failed: HTTP ${res.status} ${res.body}`);
}

/** RBAC for CoreDNS and kube-router (kube-proxy and kubelets use the built-in system:node-proxier and Node rules). */
async function createNodeRbac(ctx: RealNodeContext): Promise<void> {
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  const roles: Record<string, unknown[]> = {
    "kubeplus-dev:coredns": [
      {
        apiGroups: [""],
        resources: ["endpoints", "services", "pods", "namespaces"],
        verbs: ["list", "watch"],
      },
      { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
    ],
    "kubeplus-dev:kube-router": [
      {
        apiGroups: [""],
        resources: ["namespaces", "pods", "services", "nodes", "endpoints"],
        verbs: ["get", "list", "watch"],
      },
      {
        apiGroups: ["networking.k8s.io"],
        resources: ["networkpolicies"],
        verbs: ["get", "list", "watch"],
      },
      {
        apiGroups: ["discovery.k8s.io"],
        resources: ["endpointslices"],
        verbs: ["get", "list", "watch"],
      },
      { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    ],
  };
  for (const [name, rules] of Object.entries(roles)) {
    await applyObject(ctx, `${rbac}/clusterroles`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name },
      rules,
    });
    await applyObject(ctx, `${rbac}/clusterrolebindings`, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name }],
    });
  }
}

/** Service kube-dns with a fixed ClusterIP, its endpoint the CoreDNS process on the first real node. */
async function createDnsService(ctx: RealNodeContext, dnsNode: RealNodePlan): Promise<void> {
  await applyObject(ctx, "/api/v1/namespaces/kube-system/services", {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
    spec: {
      clusterIP: ctx.plan.dnsServiceIp,
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
      ],
    },
  });
  await applyObject(ctx, "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kube-dns-coredns",
      namespace: "kube-system",
      labels: {
        "kubernetes.io/service-name": "kube-dns",
        "endpointslice.kubernetes.io/managed-by": "kubeplus-dev",
      },
    },
    addressType: "IPv4",
    endpoints: [{ addresses: [dnsNode.ip], conditions: { ready: true }, nodeName: dnsNode.name }],
    ports: [
      { name: "dns", port: 53, protocol: "UDP" },
      { name: "dns-tcp", port: 53, protocol: "TCP" },
    ],
  });
}

/**
 * The `kubernetes` Service's endpoints, for pods on the real nodes (the chart's KubePlus pods use their in-cluster
 * identity): each node's address at the apiserver's port, where the node's forwarder listens in its namespace and
 * carries the connection to the apiserver on the host's loopback (startNode). The apiserver, bound to loopback with
 * `--endpoint-reconciler-type=none`, writes none itself; its certificate names the Service's address.
 */
async function createApiServerEndpoints(ctx: RealNodeContext): Promise<void> {
  await applyObject(ctx, "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: "kubernetes-real-nodes",
      namespace: "default",
      labels: {
        "kubernetes.io/service-name": "kubernetes",
        "endpointslice.kubernetes.io/managed-by": "kubeplus-dev",
      },
    },
    addressType: "IPv4",
    endpoints: ctx.plan.nodes.map((node) => ({
      addresses: [node.ip],
      conditions: { ready: true },
      nodeName: node.name,
    })),
    ports: [{ name: "https", port: ctx.apiServerPort, protocol: "TCP" }],
  });
}

/**
 * True when a TLS handshake with the apiserver succeeds from inside the node's namespace, through the forwarder on
 * 127.0.0.1 there: what the kubelet's first request needs (a node that cannot register says nothing else).
 */
function apiserverAnswersInside(ctx: RealNodeContext, node: RealNodePlan): boolean {
  const probe = `const s=require("node:tls").connect({host:"127.0.0.1",port:${String(ctx.apiServerPort)},rejectUnauthorized:false},()=>process.exit(0));s.on("error",()=>process.exit(1));setTimeout(()=>process.exit(2),3000);`;
  const [command = "nsenter", ...args] = nsenter(node);
  return (
    spawnSync(command, [...args, process.execPath, "-e", probe], { timeout: 5_000 }).status === 0
  );
}

function nsenter(node: RealNodePlan): string[] {
  return ["/usr/bin/nsenter", `--net=/run/netns/${node.netns}`, "--"];
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  procs: ManagedProcess[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    const dead = procs.find((p) => !isRunning(p));
    if (dead)
      throw new RealNodeError(
        `${dead.name} exited while waiting for ${what}; see ${dead.log}${excerpts([dead])}`,
      );
    if (Date.now() > deadline)
      throw new RealNodeError(
        `${what} did not happen within ${timeoutMs / 1000}s${excerpts(procs)}`,
      );
    await sleep(200);
  }
}

/** The problems each component logged, for an error message that must say why on its own (CI shows only it). */
function excerpts(procs: readonly ManagedProcess[]): string {
  return procs
    .map((p) => {
      const lines = existsSync(p.log)
        ? problemLines(readFileSync(p.log, "utf8"), 12, 6)
        : ["(no log)"];
      return `\n--- ${p.name} (${p.log}):\n${lines.map((l) => `  ${l}`).join("\n")}`;
    })
    .join("");
}

interface NodeStatusView {
  spec?: { podCIDR?: string };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/** Folders, network, cgroups, certificates and configuration files of one node. */
async function prepareNode(ctx: RealNodeContext, node: RealNodePlan): Promise<NodeDirs> {
  const { plan } = ctx;
  const dirs: NodeDirs = nodeDirs(join(ctx.runDir, "nodes"), node);
  for (const d of [
    dirs.containerdRoot,
    dirs.containerdState,
    dirs.registryHosts,
    dirs.cniConf,
    dirs.cniIpam,
    dirs.kubeletRoot,
    dirs.podLogs,
  ])
    mkdirSync(d, { recursive: true });
  setupNodeNetwork(plan, node);
  setupCgroupRoot(node);
  const serving = await issueCertificate({
    ca: ctx.ca,
    commonName: `system:node:${node.name}`,
    organizations: ["system:nodes"],
    usage: CertificateUsage.Server,
    dnsNames: [node.name],
    ipAddresses: [node.ip],
    validityDays: 30,
  });
  const servingCert = join(dirs.root, "kubelet-serving.crt");
  const servingKey = join(dirs.root, "kubelet-serving.key");
  writeFileSync(servingCert, serving.certPem);
  writeFileSync(servingKey, serving.keyPem, { mode: 0o600 });
  await writeIdentity(ctx, dirs.kubeletKubeconfig, `system:node:${node.name}`, ["system:nodes"]);
  await writeIdentity(ctx, dirs.kubeProxyKubeconfig, "system:kube-proxy", []);
  await writeIdentity(ctx, dirs.kubeRouterKubeconfig, "kubeplus-dev:kube-router", []);
  writeFileSync(join(dirs.root, "containerd.toml"), containerdConfig(dirs, ctx.sandboxImage));
  writeFileSync(join(dirs.cniConf, "10-kubeplus.conflist"), cniConflist(plan, node, dirs));
  writeFileSync(
    dirs.kubeletConfig,
    kubeletConfig(plan, node, dirs, { caFile: ctx.caFile, servingCert, servingKey }),
  );
  writeFileSync(dirs.kubeProxyConfig, kubeProxyConfig(plan, node, dirs));
  writeFileSync(dirs.resolvConf, "");
  return dirs;
}

type NodeStarter = (
  name: string,
  binary: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
) => ManagedProcess;

/** Starts a node component inside the node's network namespace and cgroup, recording it in `started`. */
function nodeStarter(
  ctx: RealNodeContext,
  node: RealNodePlan,
  started: ManagedProcess[],
): NodeStarter {
  return (name, binary, args, env) => {
    const proc = startProcess({
      name: `${node.name}-${name}`,
      binary,
      args,
      prefix: nsenter(node),
      logDir: ctx.logDir,
      pidDir: ctx.pidDir,
      ...(env ? { env } : {}),
    });
    adopt(node, proc.pid);
    started.push(proc);
    return proc;
  };
}

/** containerd, with every image the tests need loaded (nothing can be pulled here). */
async function startRuntime(
  ctx: RealNodeContext,
  dirs: NodeDirs,
  start: NodeStarter,
): Promise<ManagedProcess> {
  const { tools } = ctx;
  const shimDir = join(tools.containerdShim, "..");
  const containerd = start(
    "containerd",
    tools.containerd,
    ["--config", join(dirs.root, "containerd.toml")],
    {
      ...ctx.env,
      PATH: `${shimDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
    },
  );
  await waitUntil("containerd", () => existsSync(dirs.containerdSocket), 30_000, [containerd]);
  await importImages({
    ctr: tools.ctr,
    address: dirs.containerdSocket,
    snapshotter: "overlayfs",
    images: ctx.images,
  });
  return containerd;
}

async function isNodeReady(ctx: RealNodeContext, name: string): Promise<boolean> {
  const view = JSON.parse((await getNode(ctx, name)).body) as NodeStatusView;
  return view.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The host ends of the forwarders: unix sockets that dial the apiserver and kwok on the host's loopback. */
interface HostSockets {
  readonly apiServer: string;
  readonly kwok: string;
}

async function startNode(
  ctx: RealNodeContext,
  node: RealNodePlan,
  sockets: HostSockets,
  started: ManagedProcess[],
): Promise<void> {
  const { plan, tools } = ctx;
  const dirs = await prepareNode(ctx, node);
  const start = nodeStarter(ctx, node, started);
  const forwarder = start("apiserver-forward", process.execPath, [
    ctx.cli,
    "forward",
    `tcp:0.0.0.0:${ctx.apiServerPort}`,
    `unix:${sockets.apiServer}`,
  ]);
  // kwok's nodes report this node's address as theirs (plan.kwokNodeIp): their kubelet endpoints are reached here.
  if (node.ip === plan.kwokNodeIp)
    start("kwok-forward", process.execPath, [
      ctx.cli,
      "forward",
      `tcp:${node.ip}:${String(ctx.kwokPort)}`,
      `unix:${sockets.kwok}`,
    ]);
  await waitUntil(
    `the apiserver to answer inside ${node.netns}`,
    () => apiserverAnswersInside(ctx, node),
    20_000,
    [forwarder],
  );
  const containerd = await startRuntime(ctx, dirs, start);
  const kubelet = start("kubelet", tools.kubelet, [
    `--config=${dirs.kubeletConfig}`,
    `--kubeconfig=${dirs.kubeletKubeconfig}`,
    `--root-dir=${dirs.kubeletRoot}`,
    `--hostname-override=${node.name}`,
    `--node-ip=${node.ip}`,
    `--node-labels=${REAL_NODE_LABEL}=true,type=real,kubeplus.dev/pool=real-${node.index}`,
    // cAdvisor inside the kubelet finds containers through this socket (default /run/containerd/containerd.sock,
    // which is not ours); without it every pod's sandbox is a bare cgroup and no pod has network figures.
    `--containerd=${dirs.containerdSocket}`,
    "--v=1",
  ]);
  const registered = async (): Promise<boolean> => (await getNode(ctx, node.name)).status === 200;
  await waitUntil(`${node.name} to register`, registered, 60_000, [kubelet, containerd, forwarder]);
  const patch = await api(ctx, {
    method: "PATCH",
    path: `/api/v1/nodes/${node.name}`,
    body: { spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr] } },
    contentType: "application/merge-patch+json",
  });
  if (patch.status !== 200)
    throw new RealNodeError(
      `setting ${node.name}'s podCIDR failed: HTTP ${patch.status} ${patch.body}`,
    );
  start("kube-proxy", tools.kubeProxy, [`--config=${dirs.kubeProxyConfig}`, "--v=1"]);
  start("kube-router", tools.kubeRouter, kubeRouterArgs(plan, node, dirs), {
    ...ctx.env,
    PATH: "/usr/sbin:/usr/bin:/sbin:/bin",
  });
  if (node.index === 0) {
    const kubeconfig = join(dirs.root, "coredns.kubeconfig");
    await writeIdentity(ctx, kubeconfig, "kubeplus-dev:coredns", []);
    const conf = join(dirs.root, "Corefile");
    writeFileSync(conf, corefile(kubeconfig, node.ip));
    start("coredns", tools.coredns, ["-conf", conf]);
  }
  await waitUntil(`${node.name} to be Ready`, () => isNodeReady(ctx, node.name), 90_000, started);
}

/**
 * Starts the real nodes of `plan`; returns every process started (for state.json and `down`). A node that does not
 * come up is reported with its components' errors, everything is removed, and the nodes start once more from
 * nothing: a second failure is the error `up` reports.
 */
export async function startRealNodes(ctx: RealNodeContext): Promise<ManagedProcess[]> {
  if (ctx.plan.nodes.length === 0) return [];
  checkHost(ctx.tools);
  try {
    return await startRealNodesOnce(ctx);
  } catch (err) {
    if (!(err instanceof RealNodeError)) throw err;
    ctx.warn(`real nodes did not start; removed them and starting once more. ${err.message}`);
    return await startRealNodesOnce(ctx);
  }
}

async function startRealNodesOnce(ctx: RealNodeContext): Promise<ManagedProcess[]> {
  const { plan } = ctx;
  const started: ManagedProcess[] = [];
  try {
    setupFabric(plan);
    const sockets: HostSockets = {
      apiServer: join(ctx.runDir, "apiserver.sock"),
      kwok: join(ctx.runDir, "kwok.sock"),
    };
    const hostForwarder = (name: string, socket: string, port: number): ManagedProcess =>
      startProcess({
        name,
        binary: process.execPath,
        args: [ctx.cli, "forward", `unix:${socket}`, `tcp:127.0.0.1:${String(port)}`],
        logDir: ctx.logDir,
        pidDir: ctx.pidDir,
      });
    started.push(
      hostForwarder("apiserver-forward", sockets.apiServer, ctx.apiServerPort),
      hostForwarder("kwok-forward", sockets.kwok, ctx.kwokPort),
    );
    await waitUntil(
      "the apiserver and kwok forwarders",
      () => existsSync(sockets.apiServer) && existsSync(sockets.kwok),
      10_000,
      started,
    );
    await createNodeRbac(ctx);
    const first = plan.nodes[0];
    if (first) await createDnsService(ctx, first);
    await createApiServerEndpoints(ctx);
    for (const node of plan.nodes) {
      await startNode(ctx, node, sockets, started);
      ctx.report(`real node ${node.name} (${node.ip}, pods ${node.podCidr})`);
    }
    return started;
  } catch (err) {
    await stopRealNodes({
      slot: plan.slot,
      runDir: ctx.runDir,
      processes: started,
      pidDir: ctx.pidDir,
      report: () => undefined,
      release: false,
    });
    throw err;
  }
}

/** Stops the node processes (kubelets first), then removes everything `startRealNodes` made. */
export async function stopRealNodes(options: {
  readonly slot: number;
  readonly runDir: string;
  readonly processes: readonly ManagedProcess[];
  readonly pidDir: string;
  readonly report: (line: string) => void;
  /** Give the slot back (false while `up` still holds it, e.g. after a failed start). */
  readonly release?: boolean;
}): Promise<void> {
  const { slot, runDir, processes, pidDir, report, release = true } = options;
  const order = ["kubelet", "kube-proxy", "kube-router", "coredns", "containerd", "forward"];
  const rank = (p: ManagedProcess): number => {
    const i = order.findIndex((o) => p.name.endsWith(o));
    return i < 0 ? order.length : i;
  };
  for (const proc of [...processes].sort((a, b) => rank(a) - rank(b))) {
    const outcome = await stopProcess(proc, pidDir, 5_000);
    if (outcome !== "not-running") report(`${proc.name} (pid ${proc.pid}) ${outcome}`);
  }
  await cleanupSlot(slot, runDir, report);
  if (release) releaseSlot(slot, runDir);
}
