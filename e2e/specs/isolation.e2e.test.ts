// Tenant isolation proven with real packets, on a real node of the local control plane (kubelet, containerd, runc,
// kube-proxy and kube-router's NetworkPolicy enforcement): two tenants of the same kind, an outsider namespace and
// stand-ins for KubePlus's own NATS and webhook ports. Every refusal is checked only after the same traffic was seen
// to work where it should, so that no assertion passes because nothing works.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  exampleChart,
  instanceNamespace,
  ManifestDir,
  platformNamespace,
  pluginKubectl,
  serveFiles,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("isolation");
const KIND = "EchoService";
const PLURAL = "echoservices";
const CRD = `${PLURAL}.platformapi.kubeplus`;
const REAL_NODE = { "kubeplus.dev/real-node": "true" };
const TOLERATE_REAL_NODE = [{ key: "kubeplus.dev/real-node", operator: "Exists" }];
/** Two tenants of one kind (instance names; each instance's namespace is in its status.namespace). */
const A = "acme";
const B = "globex";
const OUTSIDER = `outsider-${Date.now().toString(36)}`;
let kp = "";
/** Each tenant's namespace, as its instance's status.namespace reports it. */
const nsOf: Record<string, string> = {};
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let pluginKubectlRun: ReturnType<typeof pluginKubectl>;
const seen: { from: string; to: string; expected: string; seen: string }[] = [];

interface PodView {
  metadata: { name: string };
  status?: { podIP?: string; phase?: string };
}

async function runningPod(
  namespace: string,
  selector: string,
): Promise<{ name: string; ip: string }> {
  return waitFor(
    async () => {
      const got = await cluster.kubectl([
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        selector,
        "-o",
        "json",
      ]);
      if (got.code !== 0) return undefined;
      const pods = (JSON.parse(got.stdout) as { items: PodView[] }).items;
      const pod = pods.find((p) => p.status?.phase === "Running" && p.status.podIP);
      return pod ? { name: pod.metadata.name, ip: pod.status?.podIP ?? "" } : undefined;
    },
    { what: `a running pod (${selector}) in ${namespace}`, timeoutMs: 120_000 },
  );
}

/** The cluster DNS name of a tenant's Service (the chart names it after the helm release). */
async function serviceName(tenant: string): Promise<string> {
  const got = await cluster.kubectl([
    "get",
    "services",
    "-n",
    nsOf[tenant] ?? "",
    "-l",
    "app.kubernetes.io/name=tenant-echo",
    "-o",
    "jsonpath={.items[0].metadata.name}",
  ]);
  expect(got.stdout, got.stderr).not.toBe("");
  return `${got.stdout}.${nsOf[tenant] ?? ""}.svc.cluster.local`;
}

const tenantPod = (tenant: string): Promise<{ name: string; ip: string }> =>
  runningPod(nsOf[tenant] ?? "", "app.kubernetes.io/name=tenant-echo");

/**
 * One TCP connection from a pod: an HTTP GET with busybox nc. Returns what answered ("reply: <body>"), or
 * "refused" / "timed out" as nc saw it.
 */
async function connect(
  from: { ns: string; pod: string },
  host: string,
  port: number,
): Promise<string> {
  const script = `printf 'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' | nc -w 3 ${host} ${port} 2>&1 | tail -n 1; true`;
  const got = await cluster.kubectl([
    "exec",
    "-n",
    from.ns,
    from.pod,
    "-c",
    "echo",
    "--",
    "sh",
    "-c",
    script,
  ]);
  const out = `${got.stdout}${got.stderr}`.trim();
  if (/refused/i.test(out)) return "refused";
  if (out === "" || /timed out|timeout/i.test(out)) return "timed out";
  return `reply: ${out}`;
}

/** Asserts one connection's outcome (answered by `tenant`, or refused/timed out), recording it for the README. */
async function expectTraffic(
  label: { from: string; to: string },
  from: { ns: string; pod: string },
  target: { host: string; port: number },
  expected: { answers: string } | "blocked",
): Promise<void> {
  // Enforcement follows a policy change within seconds; poll briefly for the expected state, then assert.
  let got: string;
  const deadline = Date.now() + 30_000;
  for (;;) {
    got = await connect(from, target.host, target.port);
    const ok =
      expected === "blocked" ? !got.startsWith("reply:") : got === `reply: ${expected.answers}`;
    if (ok || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  seen.push({
    ...label,
    expected: expected === "blocked" ? "blocked" : `answers ${expected.answers}`,
    seen: got,
  });
  if (expected === "blocked")
    expect(got, `${label.from} -> ${label.to}`).toMatch(/^(refused|timed out)$/);
  else expect(got, `${label.from} -> ${label.to}`).toBe(`reply: ${expected.answers}`);
}

async function createInstance(name: string): Promise<void> {
  const manifest = {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: KIND,
    metadata: { name, namespace: kp },
    spec: { tenant: name, nodeSelector: REAL_NODE, tolerations: TOLERATE_REAL_NODE },
  };
  const created = await cluster.kubectl(["create", "-f", manifests.write(name, manifest)]);
  expect(created.stderr).toBe("");
}

/** A pod of tenant-echo in a namespace that is not an instance's, labelled as `labels`, answering `name` on `port`. */
async function standIn(
  ns: string,
  name: string,
  port: number,
  labels: Record<string, string>,
): Promise<void> {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels },
    spec: {
      nodeSelector: REAL_NODE,
      tolerations: TOLERATE_REAL_NODE,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "echo",
          image: "localhost/kubeplus/tenant-echo:1.0.0",
          imagePullPolicy: "IfNotPresent",
          env: [
            { name: "TENANT", value: name },
            { name: "PORT", value: String(port) },
          ],
        },
      ],
    },
  };
  const created = await cluster.kubectl(["apply", "-f", manifests.write(`${ns}-${name}`, pod)]);
  expect(created.code, created.stderr).toBe(0);
}

beforeAll(async () => {
  expect(
    cluster.state.realNodes.length,
    "the control plane has no real node (up --real-nodes)",
  ).toBeGreaterThan(0);
  kp = await platformNamespace(cluster, "iso");
  charts = await serveFiles({
    "/tenant-echo-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "tenant-echo"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    // Drift (a NetworkPolicy deleted by hand) is put back within a resync period.
    RESYNC_SECONDS: "5",
  });
  const rc = compositionManifest({
    name: "echo",
    namespace: kp,
    kind: KIND,
    plural: PLURAL,
    chartURL: `${charts.url}/tenant-echo-0.1.0.tgz`,
    chartName: "tenant-echo",
  });
  const created = await cluster.kubectl(["create", "-f", manifests.write("rc", rc)]);
  expect(created.stderr).toBe("");
  await waitFor(
    async () =>
      (await cluster.kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=2s"]))
        .code === 0,
    { what: `CRD ${CRD}`, timeoutMs: 60_000 },
  );
  await createInstance(A);
  await createInstance(B);
  for (const tenant of [A, B])
    nsOf[tenant] = await instanceNamespace(cluster, {
      plural: PLURAL,
      namespace: kp,
      name: tenant,
    });
  await cluster.kubectl(["create", "namespace", OUTSIDER]);
  await standIn(OUTSIDER, "outsider", 8080, { app: "outsider" });
  // Stand-ins for KubePlus's own NATS (4222) and crd-hook (8443) in the KubePlus namespace.
  await standIn(kp, "nats", 4222, { "app.kubernetes.io/name": "nats" });
  await standIn(kp, "crd-hook", 8443, { "app.kubernetes.io/name": "crd-hook" });
  const plugins = mkdtempSync(join(tmpdir(), "kubeplus-plugins-"));
  await run(process.execPath, [
    join(process.cwd(), "cli", "dist", "install-plugins", "main.js"),
    plugins,
  ]);
  pluginKubectlRun = pluginKubectl(cluster.state, plugins, manifests.dir);
}, 300_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await cluster.kubectl(["delete", "namespace", OUTSIDER, "--wait=false", "--ignore-not-found"]);
  await charts.close();
  process.stdout.write(
    `\nisolation, as seen with packets:\n${["from | to | expected | seen", ...seen.map((s) => `${s.from} | ${s.to} | ${s.expected} | ${s.seen}`)].join("\n")}\n`,
  );
}, 240_000);

describe("tenant isolation on a real node, with packets", () => {
  it("a tenant reaches its own Service by name; another tenant's pod and Service are refused", async () => {
    const a = await tenantPod(A);
    const b = await tenantPod(B);
    const fromA = { ns: nsOf[A] ?? "", pod: a.name };
    const fromB = { ns: nsOf[B] ?? "", pod: b.name };
    await expectTraffic(
      { from: A, to: `${A} Service (DNS)` },
      fromA,
      { host: await serviceName(A), port: 80 },
      { answers: A },
    );
    await expectTraffic(
      { from: B, to: `${B} pod IP` },
      fromB,
      { host: b.ip, port: 8080 },
      { answers: B },
    );
    await expectTraffic(
      { from: B, to: `${B} Service (DNS)` },
      fromB,
      { host: await serviceName(B), port: 80 },
      { answers: B },
    );
    await expectTraffic(
      { from: A, to: `${B} pod IP` },
      fromA,
      { host: b.ip, port: 8080 },
      "blocked",
    );
    await expectTraffic(
      { from: A, to: `${B} Service (DNS)` },
      fromA,
      { host: await serviceName(B), port: 80 },
      "blocked",
    );
  });

  it("a pod in a namespace that is no instance's cannot reach a tenant, though the tenant reaches it", async () => {
    const a = await tenantPod(A);
    const outsider = await runningPod(OUTSIDER, "app=outsider");
    await expectTraffic(
      { from: A, to: "outsider pod" },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: outsider.ip, port: 8080 },
      { answers: "outsider" },
    );
    await expectTraffic(
      { from: "outsider", to: `${A} pod IP` },
      { ns: OUTSIDER, pod: outsider.name },
      { host: a.ip, port: 8080 },
      "blocked",
    );
    // The provider lets the outsider in (an ingress controller's namespace, say): the composition says so.
    const patched = await cluster.kubectl([
      "patch",
      "resourcecomposition",
      "echo",
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { isolation: { ingressFromNamespaces: [OUTSIDER] } } }),
    ]);
    expect(patched.code, patched.stderr).toBe(0);
    await expectTraffic(
      { from: "outsider", to: `${A} pod IP (composition allows)` },
      { ns: OUTSIDER, pod: outsider.name },
      { host: a.ip, port: 8080 },
      { answers: A },
    );
    const reverted = await cluster.kubectl([
      "patch",
      "resourcecomposition",
      "echo",
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { isolation: { ingressFromNamespaces: [] } } }),
    ]);
    expect(reverted.code, reverted.stderr).toBe(0);
    await expectTraffic(
      { from: "outsider", to: `${A} pod IP (allowance withdrawn)` },
      { ns: OUTSIDER, pod: outsider.name },
      { host: a.ip, port: 8080 },
      "blocked",
    );
  });

  it("a tenant cannot reach KubePlus's NATS and webhook ports, which answer inside the KubePlus namespace", async () => {
    const a = await tenantPod(A);
    const outsider = await runningPod(OUTSIDER, "app=outsider");
    const nats = await runningPod(kp, "app.kubernetes.io/name=nats");
    const hook = await runningPod(kp, "app.kubernetes.io/name=crd-hook");
    await expectTraffic(
      { from: "outsider", to: "KubePlus NATS :4222" },
      { ns: OUTSIDER, pod: outsider.name },
      { host: nats.ip, port: 4222 },
      { answers: "nats" },
    );
    await expectTraffic(
      { from: "outsider", to: "KubePlus webhook :8443" },
      { ns: OUTSIDER, pod: outsider.name },
      { host: hook.ip, port: 8443 },
      { answers: "crd-hook" },
    );
    await expectTraffic(
      { from: A, to: "KubePlus NATS :4222" },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: nats.ip, port: 4222 },
      "blocked",
    );
    await expectTraffic(
      { from: A, to: "KubePlus webhook :8443" },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: hook.ip, port: 8443 },
      "blocked",
    );
  });

  it("kubectl allow-network-traffic opens exactly the pair it names, and deny-network-traffic closes it", async () => {
    const a = await tenantPod(A);
    const b = await tenantPod(B);
    const outsider = await runningPod(OUTSIDER, "app=outsider");
    const opened = await pluginKubectlRun([
      "allow",
      "network",
      "traffic",
      nsOf[A] ?? "",
      nsOf[B] ?? "",
    ]);
    expect(opened.code, opened.stderr).toBe(0);
    await expectTraffic(
      { from: A, to: `${B} pod IP (allowed)` },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: b.ip, port: 8080 },
      { answers: B },
    );
    await expectTraffic(
      { from: B, to: `${A} pod IP (allowed)` },
      { ns: nsOf[B] ?? "", pod: b.name },
      { host: a.ip, port: 8080 },
      { answers: A },
    );
    await expectTraffic(
      { from: "outsider", to: `${A} pod IP (pair allowed)` },
      { ns: OUTSIDER, pod: outsider.name },
      { host: a.ip, port: 8080 },
      "blocked",
    );
    const closed = await pluginKubectlRun([
      "deny",
      "network",
      "traffic",
      nsOf[A] ?? "",
      nsOf[B] ?? "",
    ]);
    expect(closed.code, closed.stderr).toBe(0);
    await expectTraffic(
      { from: A, to: `${B} pod IP (denied again)` },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: b.ip, port: 8080 },
      "blocked",
    );
  });

  it("isolation NetworkPolicies deleted by hand come back, and the traffic is refused again", async () => {
    const a = await tenantPod(A);
    const b = await tenantPod(B);
    // Both fences of the pair go: the target's ingress policy and the source's egress policy (either alone refuses).
    const uidOf = async (ns: string, name: string): Promise<string> =>
      (
        await cluster.kubectl([
          "get",
          "networkpolicy",
          name,
          "-n",
          ns,
          "-o",
          "jsonpath={.metadata.uid}",
        ])
      ).stdout;
    const before = {
      ingress: await uidOf(nsOf[B] ?? "", "restrict-cross-ns-traffic"),
      egress: await uidOf(nsOf[A] ?? "", "kubeplus-egress"),
    };
    expect(before.ingress).not.toBe("");
    for (const [ns, name] of [
      [nsOf[B] ?? "", "restrict-cross-ns-traffic"],
      [nsOf[A] ?? "", "kubeplus-egress"],
    ] as const) {
      const deleted = await cluster.kubectl(["delete", "networkpolicy", name, "-n", ns]);
      expect(deleted.code, deleted.stderr).toBe(0);
    }
    await waitFor(
      async () => {
        const ingress = await uidOf(nsOf[B] ?? "", "restrict-cross-ns-traffic");
        const egress = await uidOf(nsOf[A] ?? "", "kubeplus-egress");
        return ingress && egress && ingress !== before.ingress && egress !== before.egress;
      },
      { what: "the helmer to put both isolation policies back", timeoutMs: 60_000 },
    );
    // The target answers where it should (its own namespace), and the other tenant is refused again.
    await expectTraffic(
      { from: B, to: `${B} pod IP (policies back)` },
      { ns: nsOf[B] ?? "", pod: b.name },
      { host: b.ip, port: 8080 },
      { answers: B },
    );
    await expectTraffic(
      { from: A, to: `${B} pod IP (policies back)` },
      { ns: nsOf[A] ?? "", pod: a.name },
      { host: b.ip, port: 8080 },
      "blocked",
    );
  });
});
