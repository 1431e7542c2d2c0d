// Metering and logs on a real node: the real metrics-collector reads the kubelet of real-node-0 (its resource
// metrics, cAdvisor and volume stats, straight from the kubelet as metrics-server does) while tenant-echo instances
// run there with a CPU burner, a known amount of memory, a volume and traffic of known size; `kubectl metrics` and
// `kubectl applogs` show what the containers did. No figure here is emulated: kwok's annotations are not set.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  exampleChart,
  freePort,
  ManifestDir,
  platformNamespace,
  pluginKubectl,
  type RunningService,
  serveFiles,
  serviceEnv,
  startHelmer,
  startService,
  tearDownPlatform,
  TestCluster,
  waitFor,
  instanceNamespace,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("real-metering");
const work = mkdtempSync(join(tmpdir(), "real-metering-"));
const KIND = "MeteredEcho";
const PLURAL = "meteredechoes";
const CRD = `${PLURAL}.platformapi.kubeplus`;
const RUN = Date.now().toString(36).slice(-5);
/** The metered tenant: a CPU burner holding MEMORY_MIB, a volume, a NodePort Service. */
const M = `meter-${RUN}`;
/** A quiet tenant of the same kind: tenant-echo alone, no burner, no volume, no NodePort. */
const Q = `quiet-${RUN}`;
const MiB = 1024 ** 2;
const BURNER_LIMIT_CORES = 0.2;
const HELD_MIB = 64;
/** The known transfer (GET /bytes?n=N) and the known file (dd into the volume). */
const TRANSFER_BYTES = 8 * MiB;
const FILE_BYTES = 8 * MiB;
const REAL_NODE = { "kubeplus.dev/real-node": "true" };
const TOLERATE_REAL_NODE = [{ key: "kubeplus.dev/real-node", operator: "Exists" }];
const APP_METRIC = "tenant_echo_requests_total";

let kp = "";
/** Each tenant's namespace, as its instance's status.namespace reports it (filled when the instances exist). */
const nsOf: Record<string, string> = {};
function ns(tenant: string): string {
  const namespace = nsOf[tenant];
  if (!namespace) throw new Error(`no namespace recorded for instance ${tenant}`);
  return namespace;
}
let helmer: RunningService;
let collector: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let kubectl: ReturnType<typeof pluginKubectl>;
/** Where the metered tenant's Service answers from the host: its node's address and NodePort. */
let nodePortUrl = "";
/** What was measured, printed at the end (docs/real-nodes.md quotes it). */
const figures: string[] = [];

interface PodUsage {
  name: string;
  node: string;
  cpuCores: number | null;
  memoryBytes: number | null;
  networkReceiveBytes: number | null;
  networkTransmitBytes: number | null;
}
interface MetricsJson {
  collectedAt: string;
  pods: number;
  containers: number;
  nodes: number;
  notRunningPods: number;
  cpu: { cores: number | null; millicores: number | null };
  memory: { bytes: number | null };
  storage: { bytes: number; usedBytes: number | null };
  networkReceiveBytes: number | null;
  networkTransmitBytes: number | null;
  perPod: PodUsage[];
  warnings: string[];
  [metric: string]: unknown;
}

const metricsJson = async (name: string): Promise<MetricsJson | undefined> => {
  const r = await kubectl(["metrics", KIND, name, kp, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as MetricsJson) : undefined;
};

/** Every figure of every pod came in this pass (a kubelet that left one out shows null and a warning). */
const complete = (m: MetricsJson | undefined): m is MetricsJson =>
  m !== undefined &&
  m.pods > 0 &&
  m.notRunningPods === 0 &&
  m.cpu.cores !== null &&
  m.memory.bytes !== null &&
  m.networkReceiveBytes !== null &&
  m.networkTransmitBytes !== null &&
  !m.warnings.some((w) => /reported no|did not answer/.test(w));

/**
 * The first complete metering pass of `name` collected after `after` (an ISO time) that `accept` takes: passes are
 * awaited, never slept for.
 */
async function pass(
  name: string,
  what: string,
  accept: (m: MetricsJson) => boolean = () => true,
  options: { after?: string; timeoutMs?: number } = {},
): Promise<MetricsJson> {
  const after = options.after ?? new Date().toISOString();
  let last: MetricsJson | undefined;
  return waitFor(
    async () => {
      const m = await metricsJson(name);
      if (m) last = m;
      return complete(m) && m.collectedAt > after && accept(m) ? m : undefined;
    },
    {
      what: `${name}: ${what}`,
      timeoutMs: options.timeoutMs ?? 90_000,
      diagnose: () => `last pass seen: ${JSON.stringify(last)}`,
    },
  );
}

async function createInstance(name: string, spec: Record<string, unknown>): Promise<void> {
  const manifest = {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: KIND,
    metadata: { name, namespace: kp },
    spec: { nodeSelector: REAL_NODE, tolerations: TOLERATE_REAL_NODE, ...spec },
  };
  const created = await cluster.kubectl(["create", "-f", manifests.write(name, manifest)]);
  expect(created.stderr).toBe("");
}

interface PodView {
  metadata: { name: string };
  spec: { nodeName?: string };
  status?: { phase?: string; hostIP?: string; podIP?: string; startTime?: string };
}

async function runningPod(namespace: string): Promise<PodView> {
  return waitFor(
    async () => {
      const got = await cluster.kubectl([
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        "app.kubernetes.io/name=tenant-echo",
        "-o",
        "json",
      ]);
      if (got.code !== 0) return undefined;
      const pods = (JSON.parse(got.stdout) as { items: PodView[] }).items;
      return pods.find((p) => p.status?.phase === "Running" && p.status.podIP);
    },
    { what: `a running tenant-echo pod in ${namespace}`, timeoutMs: 150_000 },
  );
}

function startCollector(port: number): Promise<RunningService> {
  return startService(
    "metrics-collector",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: kp,
      PORT: String(port),
      HOST: "127.0.0.1",
      INTERVAL_SECONDS: "2",
      KUBELET_ACCESS: "direct",
      KUBELET_CA_FILE: join(cluster.state.runDir, "pki", "ca.crt"),
      POD_NAME: `metrics-collector-${kp}`,
    }),
    (l) => l.msg === "metrics-collector started",
  );
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(2)} MiB`;

beforeAll(async () => {
  expect(
    cluster.state.realNodes.length,
    "the control plane has no real node (up --real-nodes)",
  ).toBeGreaterThan(0);
  const pluginDir = join(work, "bin");
  await run("node", [
    fileURLToPath(new URL("../../cli/dist/install-plugins/main.js", import.meta.url)),
    pluginDir,
  ]);
  kubectl = pluginKubectl(cluster.state, pluginDir, work);
  kp = await platformNamespace(cluster, "kprm");
  charts = await serveFiles({
    "/tenant-echo-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "tenant-echo"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  collector = await startCollector(await freePort());
  const rc = compositionManifest(
    {
      name: "metered-echo",
      namespace: kp,
      kind: KIND,
      plural: PLURAL,
      chartURL: `${charts.url}/tenant-echo-0.1.0.tgz`,
      chartName: "tenant-echo",
    },
    {
      resmonitor: {
        apiVersion: "workflows.kubeplus/v1alpha1",
        kind: "ResourceMonitor",
        metadata: { name: "metered-echo-monitor" },
        spec: {
          resource: { kind: KIND, group: "platformapi.kubeplus", version: "v1alpha1" },
          monitorRelationships: "owner",
          appEndpoints: {
            label: "app.kubernetes.io/name=tenant-echo",
            endpoint: "metrics",
            metrics: [APP_METRIC],
          },
        },
      },
    },
  );
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitFor(
    async () =>
      (await cluster.kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=2s"]))
        .code === 0,
    { what: `CRD ${CRD}`, timeoutMs: 60_000 },
  );
  await createInstance(M, {
    tenant: M,
    service: { type: "NodePort" },
    persistence: { enabled: true, size: "64Mi" },
    burner: { enabled: true, workers: 1, memoryMiB: HELD_MIB },
  });
  await createInstance(Q, { tenant: Q });
  for (const name of [M, Q])
    nsOf[name] = await instanceNamespace(cluster, { plural: PLURAL, namespace: kp, name });
  const pod = await runningPod(ns(M));
  await runningPod(ns(Q));
  const nodePort = await cluster.kubectl([
    "get",
    "services",
    "-n",
    ns(M),
    "-l",
    "app.kubernetes.io/name=tenant-echo",
    "-o",
    "jsonpath={.items[0].spec.ports[0].nodePort}",
  ]);
  expect(nodePort.stdout, nodePort.stderr).toMatch(/^\d+$/);
  nodePortUrl = `http://${pod.status?.hostIP ?? ""}:${nodePort.stdout}`;
}, 300_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [CRD],
    services: [helmer, collector],
  });
  await charts.close();
  process.stdout.write(`\nreal-node metering, as measured:\n${figures.join("\n")}\n`);
}, 240_000);

describe("metering on a real node", () => {
  it("kubectl metrics shows the burner's CPU at its cgroup's 200m limit (within 10%), and next to none for a tenant without one", async () => {
    const pod = await runningPod(ns(M));
    expect(pod.spec.nodeName).toBe(cluster.state.realNodes[0]);
    // A rate between two kubelet samples taken after the burner started (the kubelet refreshes every 10-20 s).
    const started = Date.parse(pod.status?.startTime ?? "");
    const m = await pass(M, "a complete pass 40 s after the pod started", () => true, {
      after: new Date(started + 40_000).toISOString(),
      timeoutMs: 120_000,
    });
    expect(m).toMatchObject({ pods: 1, containers: 2, nodes: 1, notRunningPods: 0 });
    expect(m.perPod[0]?.node).toBe(cluster.state.realNodes[0]);
    const cores = m.cpu.cores ?? 0;
    figures.push(
      `cpu: ${M} (burner limited to 200m, plus tenant-echo) ${String(m.cpu.millicores)}m`,
    );
    expect(cores, JSON.stringify(m)).toBeGreaterThan(BURNER_LIMIT_CORES * 0.9);
    expect(cores, JSON.stringify(m)).toBeLessThan(BURNER_LIMIT_CORES * 1.1);
    const q = await pass(Q, "a complete pass");
    figures.push(`cpu: ${Q} (tenant-echo alone) ${String(q.cpu.millicores)}m`);
    expect(q.cpu.cores).toBeLessThan(0.02);
  });

  it("kubectl metrics shows the 64 MiB the burner holds, within 64-80 MiB for the pod, against a few MiB without it", async () => {
    const m = await pass(M, "a complete pass");
    const q = await pass(Q, "a complete pass");
    figures.push(
      `memory: ${M} (burner holding ${String(HELD_MIB)} MiB) ${mib(m.memory.bytes ?? 0)}`,
    );
    figures.push(`memory: ${Q} (tenant-echo alone) ${mib(q.memory.bytes ?? 0)}`);
    // The held bytes, plus the Go runtimes of the burner and tenant-echo (a few MiB each).
    expect(m.memory.bytes).toBeGreaterThanOrEqual(HELD_MIB * MiB);
    expect(m.memory.bytes).toBeLessThanOrEqual((HELD_MIB + 16) * MiB);
    expect(q.memory.bytes).toBeGreaterThan(0);
    expect(q.memory.bytes).toBeLessThan(16 * MiB);
  });

  it("counts at least the 8 MiB a tenant's pod sent after a known transfer, and not in another tenant", async () => {
    const before = await pass(M, "a complete pass before the transfer");
    const quietBefore = await pass(Q, "a complete pass before the transfer");
    // From the host to the pod, through its node's NodePort (the host reaches the node's address by route).
    const res = await fetch(`${nodePortUrl}/bytes?n=${String(TRANSFER_BYTES)}`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(TRANSFER_BYTES);
    const sentAt = new Date().toISOString();
    const after = await pass(
      M,
      `${String(TRANSFER_BYTES)} more bytes transmitted`,
      (m) => (m.networkTransmitBytes ?? 0) - (before.networkTransmitBytes ?? 0) >= TRANSFER_BYTES,
      { after: sentAt },
    );
    const sent = (after.networkTransmitBytes ?? 0) - (before.networkTransmitBytes ?? 0);
    const received = (after.networkReceiveBytes ?? 0) - (before.networkReceiveBytes ?? 0);
    figures.push(
      `network: GET /bytes?n=${String(TRANSFER_BYTES)}: transmitted +${String(sent)} bytes, received +${String(received)} bytes`,
    );
    // The body, its TCP/IP headers and the pod's other traffic meanwhile (probes, scrapes): not much more.
    expect(sent).toBeGreaterThanOrEqual(TRANSFER_BYTES);
    expect(sent).toBeLessThan(TRANSFER_BYTES * 1.1);
    // The ACKs the pod received for it: some, far fewer bytes.
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(TRANSFER_BYTES / 4);
    const quiet = await pass(Q, "a complete pass after the transfer", () => true, {
      after: after.collectedAt,
    });
    expect(
      (quiet.networkTransmitBytes ?? 0) - (quietBefore.networkTransmitBytes ?? 0),
    ).toBeLessThan(TRANSFER_BYTES / 100);
  });

  it("shows a volume's used bytes growing by the 8 MiB file written into it", async () => {
    const before = await pass(
      M,
      "a complete pass with the volume's stats",
      (m) => m.storage.usedBytes !== null,
    );
    expect(before.storage.bytes).toBe(64 * MiB);
    // A fresh filesystem of its own: next to nothing used yet.
    expect(before.storage.usedBytes).toBeLessThan(MiB);
    const pod = await runningPod(ns(M));
    const written = await cluster.kubectl([
      "exec",
      "-n",
      ns(M),
      pod.metadata.name,
      "-c",
      "echo",
      "--",
      "sh",
      "-c",
      `dd if=/dev/urandom of=/data/blob bs=1048576 count=${String(FILE_BYTES / MiB)} && sync && ls -l /data/blob`,
    ]);
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain(String(FILE_BYTES));
    const after = await pass(
      M,
      `${String(FILE_BYTES)} more bytes used in the volume`,
      (m) => (m.storage.usedBytes ?? 0) - (before.storage.usedBytes ?? 0) >= FILE_BYTES,
      { timeoutMs: 90_000 },
    );
    const grown = (after.storage.usedBytes ?? 0) - (before.storage.usedBytes ?? 0);
    figures.push(
      `storage: 8 MiB file written: used ${String(before.storage.usedBytes)} -> ${String(after.storage.usedBytes)} bytes (+${String(grown)}), claim 64 MiB`,
    );
    // The file and its filesystem blocks (extent tree, directory): a little more at most.
    expect(grown).toBeGreaterThanOrEqual(FILE_BYTES);
    expect(grown).toBeLessThan(FILE_BYTES + MiB);
    // The quiet tenant has no claim: nothing used, nothing measured.
    const quiet = await pass(Q, "a complete pass");
    expect(quiet.storage).toMatchObject({ bytes: 0, usedBytes: null });
  });

  it("kubectl applogs shows the request lines tenant-echo printed, and the other tenant's logs do not", async () => {
    const marker = `/bytes?n=${String(TRANSFER_BYTES)}`;
    const res = await fetch(`${nodePortUrl}/`);
    expect((await res.text()).trim()).toBe(M);
    const logs = await waitFor(
      async () => {
        const r = await kubectl(["applogs", KIND, M, kp, "-c", "echo"]);
        return r.code === 0 && r.stdout.includes("request path=/ from=") ? r : undefined;
      },
      { what: `${M}'s request lines in kubectl applogs`, timeoutMs: 30_000 },
    );
    expect(logs.stdout).toMatch(
      /==== Pod meteredecho-meter-[a-z0-9]+-echo-[a-z0-9-]+, container echo ====/,
    );
    expect(logs.stdout).toMatch(new RegExp(`tenant-echo \\S+ listening on \\S+:8080 tenant=${M}`));
    expect(logs.stdout).toContain(`request path=/bytes n=${String(TRANSFER_BYTES)}`);
    expect(logs.stdout).toContain(`request path=/ from=`);
    const burner = await kubectl(["applogs", KIND, M, kp, "-c", "burner"]);
    expect(burner.stdout).toContain(`memory_mib=${String(HELD_MIB)} resident`);
    const quiet = await kubectl(["applogs", KIND, Q, kp]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toContain(`tenant=${Q}`);
    expect(quiet.stdout).not.toContain(marker.slice(1));
  });

  it("scrapes the application metric from the real pod, counting the requests it served", async () => {
    const before = await pass(M, `${APP_METRIC} scraped`, (m) => typeof m[APP_METRIC] === "number");
    const count = before[APP_METRIC] as number;
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${nodePortUrl}/`);
      expect(res.status).toBe(200);
      await res.text();
    }
    const after = await pass(
      M,
      `${APP_METRIC} up by 20`,
      (m) => typeof m[APP_METRIC] === "number" && m[APP_METRIC] >= count + 20,
      { after: new Date().toISOString() },
    );
    const seen = after[APP_METRIC] as number;
    figures.push(`app metric: ${APP_METRIC} ${String(count)} -> ${String(seen)} after 20 GET /`);
    // The 20 requests, and the collector's own scrapes of /metrics meanwhile (one a pass).
    expect(seen - count).toBeGreaterThanOrEqual(20);
    expect(seen - count).toBeLessThan(20 + 30);
    // The quiet tenant exposes no NodePort: no figure, and a warning that says what to change.
    const quiet = await pass(Q, "a complete pass");
    expect(quiet[APP_METRIC]).toBeUndefined();
    expect(quiet.warnings.join("\n")).toContain(
      "appEndpoints: no Service labelled app.kubernetes.io/name=tenant-echo with a NodePort",
    );
  });
});
