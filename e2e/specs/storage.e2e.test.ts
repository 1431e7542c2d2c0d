// Storage on a real node: a chart's PersistentVolumeClaim is provisioned by the local provisioner (a filesystem of
// its own on real-node-0), mounted by a real container, written, kept across a pod restart, and neither seen nor
// mountable by another tenant. Every refusal is checked after the same step was seen to work for the owner.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import {
  compositionManifest,
  exampleChart,
  ManifestDir,
  platformNamespace,
  serveFiles,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
  instanceNamespace,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("storage");
const KIND = "StoredEcho";
const PLURAL = "storedechoes";
const CRD = `${PLURAL}.platformapi.kubeplus`;
const RUN = Date.now().toString(36).slice(-5);
const A = `store-a-${RUN}`;
const B = `store-b-${RUN}`;
const REAL_NODE = { "kubeplus.dev/real-node": "true" };
const TOLERATE_REAL_NODE = [{ key: "kubeplus.dev/real-node", operator: "Exists" }];
/** What each tenant writes into its volume. */
const SECRET = { [A]: `written by ${A}`, [B]: `written by ${B}` };
let kp = "";
/** Each tenant's namespace, as its instance's status.namespace reports it (filled when the instances exist). */
const nsOf: Record<string, string> = {};
function ns(tenant: string): string {
  const namespace = nsOf[tenant];
  if (!namespace) throw new Error(`no namespace recorded for instance ${tenant}`);
  return namespace;
}
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

interface PodView {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status?: { phase?: string };
}

/** A running tenant-echo pod of `tenant` other than `not` (the pod deleted before). */
async function tenantPod(tenant: string, not?: string): Promise<PodView> {
  return waitFor(
    async () => {
      const got = await cluster.kubectl([
        "get",
        "pods",
        "-n",
        ns(tenant),
        "-l",
        "app.kubernetes.io/name=tenant-echo",
        "-o",
        "json",
      ]);
      if (got.code !== 0) return undefined;
      return (JSON.parse(got.stdout) as { items: PodView[] }).items.find(
        (p) =>
          p.status?.phase === "Running" && !p.metadata.deletionTimestamp && p.metadata.uid !== not,
      );
    },
    { what: `a running tenant-echo pod in ${tenant}`, timeoutMs: 150_000 },
  );
}

/** A shell command in the tenant's echo container: exit code and output. */
async function inPod(
  tenant: string,
  pod: PodView,
  script: string,
): Promise<{ code: number; out: string }> {
  const r = await cluster.kubectl([
    "exec",
    "-n",
    ns(tenant),
    pod.metadata.name,
    "-c",
    "echo",
    "--",
    "sh",
    "-c",
    script,
  ]);
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

interface ClaimView {
  metadata: { name: string; uid: string };
  spec: { volumeName?: string; storageClassName?: string };
  status?: { phase?: string };
}
interface VolumeView {
  spec: {
    local?: { path: string };
    hostPath?: { path: string };
    claimRef?: { namespace: string; name: string; uid: string };
    nodeAffinity?: unknown;
  };
}

async function claimOf(tenant: string): Promise<ClaimView> {
  const got = await cluster.kubectl(["get", "pvc", "-n", ns(tenant), "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  const claims = (JSON.parse(got.stdout) as { items: ClaimView[] }).items;
  expect(claims).toHaveLength(1);
  return claims[0]!;
}

async function volume(name: string): Promise<VolumeView> {
  const got = await cluster.kubectl(["get", "pv", name, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  return JSON.parse(got.stdout) as VolumeView;
}

/** Events of an object in a namespace, as one text (why a pod does not start, why a claim is not bound). */
async function podEvents(tenant: string, pod: string): Promise<string> {
  const got = await cluster.kubectl([
    "get",
    "events",
    "-n",
    ns(tenant),
    "--field-selector",
    `involvedObject.name=${pod}`,
    "-o",
    "jsonpath={range .items[*]}{.reason}: {.message}{'\\n'}{end}",
  ]);
  return got.stdout;
}

beforeAll(async () => {
  expect(
    cluster.state.realNodes.length,
    "the control plane has no real node (up --real-nodes)",
  ).toBeGreaterThan(0);
  kp = await platformNamespace(cluster, "kps");
  charts = await serveFiles({
    "/tenant-echo-0.1.0.tgz": exampleChart(cluster.state.tools.helm, "tenant-echo"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest({
    name: "stored-echo",
    namespace: kp,
    kind: KIND,
    plural: PLURAL,
    chartURL: `${charts.url}/tenant-echo-0.1.0.tgz`,
    chartName: "tenant-echo",
  });
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitFor(
    async () =>
      (await cluster.kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=2s"]))
        .code === 0,
    { what: `CRD ${CRD}`, timeoutMs: 60_000 },
  );
  for (const name of [A, B]) {
    const manifest = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: KIND,
      metadata: { name, namespace: kp },
      spec: {
        nodeSelector: REAL_NODE,
        tolerations: TOLERATE_REAL_NODE,
        persistence: { enabled: true, size: "32Mi" },
      },
    };
    const created = await cluster.kubectl(["create", "-f", manifests.write(name, manifest)]);
    expect(created.stderr).toBe("");
  }
  for (const name of [A, B])
    nsOf[name] = await instanceNamespace(cluster, { plural: PLURAL, namespace: kp, name });
}, 300_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await charts.close();
}, 240_000);

describe("storage on a real node", () => {
  it("provisions the chart's claim as a filesystem of its own on the real node, mounted and written by the container", async () => {
    const pod = await tenantPod(A);
    expect(pod.spec.nodeName).toBe(cluster.state.realNodes[0]);
    const claim = await claimOf(A);
    expect(claim.status?.phase).toBe("Bound");
    expect(claim.spec.storageClassName).toBe("standard");
    const pv = await volume(claim.spec.volumeName ?? "");
    expect(pv.spec.claimRef).toMatchObject({ namespace: ns(A), name: claim.metadata.name });
    expect(pv.spec.claimRef?.uid).toBe(claim.metadata.uid);
    expect(pv.spec.local?.path).toMatch(new RegExp(`/volumes/${claim.spec.volumeName ?? ""}$`));
    expect(pv.spec.nodeAffinity).toBeDefined();
    // /data is a filesystem of the claim's size (32 MiB; ext4 keeps a little for itself), not the node's disk.
    const df = await inPod(A, pod, "df -k /data | tail -n 1");
    expect(df.code, df.out).toBe(0);
    const kib = Number(df.out.split(/\s+/)[1]);
    expect(kib).toBeGreaterThan(24 * 1024);
    expect(kib).toBeLessThanOrEqual(32 * 1024);
    // Nothing there before the tenant writes (the read can fail), then what it wrote.
    const empty = await inPod(A, pod, "cat /data/secret.txt");
    expect(empty.code).not.toBe(0);
    expect(empty.out).toMatch(/No such file/);
    const write = await inPod(A, pod, `echo '${SECRET[A]}' > /data/secret.txt && id -u`);
    expect(write.code, write.out).toBe(0);
    // tenant-echo runs as a non-root user: the volume is writable by it.
    expect(write.out).not.toBe("0");
    expect(await inPod(A, pod, "cat /data/secret.txt")).toEqual({ code: 0, out: SECRET[A] });
  });

  it("keeps what was written across a pod restart: the Deployment's new pod reads the same file", async () => {
    const old = await tenantPod(A);
    expect((await inPod(A, old, "cat /data/secret.txt")).out).toBe(SECRET[A]);
    const deleted = await cluster.kubectl([
      "delete",
      "pod",
      "-n",
      ns(A),
      old.metadata.name,
      "--wait=true",
      "--timeout=60s",
    ]);
    expect(deleted.code, deleted.stderr).toBe(0);
    const fresh = await tenantPod(A, old.metadata.uid);
    expect(fresh.metadata.name).not.toBe(old.metadata.name);
    expect(await inPod(A, fresh, "cat /data/secret.txt")).toEqual({ code: 0, out: SECRET[A] });
  });

  it("gives another tenant a volume of its own: it does not see the first tenant's file, and the first does not see its", async () => {
    const a = await tenantPod(A);
    const b = await tenantPod(B);
    const claimA = await claimOf(A);
    const claimB = await claimOf(B);
    expect(claimB.status?.phase).toBe("Bound");
    expect(claimB.spec.volumeName).not.toBe(claimA.spec.volumeName);
    // The owner sees its file (the check can fail), the other tenant's volume is empty.
    expect((await inPod(A, a, "ls -A /data")).out).toBe("secret.txt");
    expect(await inPod(B, b, "ls -A /data")).toEqual({ code: 0, out: "" });
    expect((await inPod(B, b, "cat /data/secret.txt")).out).toMatch(/No such file/);
    expect((await inPod(B, b, `echo '${SECRET[B]}' > /data/secret.txt`)).code).toBe(0);
    expect((await inPod(B, b, "cat /data/secret.txt")).out).toBe(SECRET[B]);
    expect((await inPod(A, a, "cat /data/secret.txt")).out).toBe(SECRET[A]);
  });

  it("does not let another tenant's pod mount the first tenant's claim, by claim name or by volume name", async () => {
    const claimA = await claimOf(A);
    const pod = (name: string, claimName: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns(B) },
      spec: {
        nodeSelector: REAL_NODE,
        tolerations: TOLERATE_REAL_NODE,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "echo",
            image: "localhost/kubeplus/tenant-echo:1.0.0",
            imagePullPolicy: "IfNotPresent",
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
      },
    });
    // The same pod in B mounting B's own claim starts: the stand-in works.
    const claimB = await claimOf(B);
    const own = await cluster.kubectl([
      "apply",
      "-f",
      manifests.write("own", pod("mounts-own", claimB.metadata.name)),
    ]);
    expect(own.code, own.stderr).toBe(0);
    await waitFor(
      async () =>
        (
          await cluster.kubectl([
            "get",
            "pod",
            "mounts-own",
            "-n",
            ns(B),
            "-o",
            "jsonpath={.status.phase}",
          ])
        ).stdout === "Running",
      { what: "B's stand-in pod on B's claim to run", timeoutMs: 90_000 },
    );
    const seen = await cluster.kubectl([
      "exec",
      "-n",
      ns(B),
      "mounts-own",
      "--",
      "cat",
      "/data/secret.txt",
    ]);
    expect(seen.stdout.trim()).toBe(SECRET[B]);

    // By name: claims are namespaced; B has no claim of that name, so the pod never starts.
    const byName = await cluster.kubectl([
      "apply",
      "-f",
      manifests.write("by-name", pod("mounts-a", claimA.metadata.name)),
    ]);
    expect(byName.code, byName.stderr).toBe(0);
    const why = await waitFor(
      async () => {
        const events = await podEvents(B, "mounts-a");
        return events.includes("not found") ? events : undefined;
      },
      { what: "the pod on A's claim name to be refused", timeoutMs: 60_000 },
    );
    expect(why).toContain(`persistentvolumeclaim "${claimA.metadata.name}" not found`);
    const phase = await cluster.kubectl([
      "get",
      "pod",
      "mounts-a",
      "-n",
      ns(B),
      "-o",
      "jsonpath={.status.phase}",
    ]);
    expect(phase.stdout).toBe("Pending");

    // By volume: a claim in B naming A's volume is never bound (the volume is reserved for A's claim, by UID).
    const steal = await cluster.kubectl([
      "apply",
      "-f",
      manifests.write("steal", {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "steal", namespace: ns(B) },
        spec: {
          storageClassName: "standard",
          volumeName: claimA.spec.volumeName,
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: "32Mi" } },
        },
      }),
    ]);
    expect(steal.code, steal.stderr).toBe(0);
    const stolen = await cluster.kubectl([
      "apply",
      "-f",
      manifests.write("by-volume", pod("mounts-steal", "steal")),
    ]);
    expect(stolen.code, stolen.stderr).toBe(0);
    // The volume controller says why it will not bind it; the claim stays Pending and the pod never runs.
    const refused = await waitFor(
      async () => {
        const events = await podEvents(B, "steal");
        return events.includes("already bound to a different claim") ? events : undefined;
      },
      { what: "the claim on A's volume to be refused", timeoutMs: 60_000 },
    );
    expect(refused).toContain(
      `volume "${claimA.spec.volumeName ?? ""}" already bound to a different claim`,
    );
    const stealPhase = await cluster.kubectl([
      "get",
      "pvc",
      "steal",
      "-n",
      ns(B),
      "-o",
      "jsonpath={.status.phase}",
    ]);
    expect(stealPhase.stdout).toBe("Pending");
    const podPhase = await cluster.kubectl([
      "get",
      "pod",
      "mounts-steal",
      "-n",
      ns(B),
      "-o",
      "jsonpath={.status.phase}",
    ]);
    expect(podPhase.stdout).toBe("Pending");
    const pv = await volume(claimA.spec.volumeName ?? "");
    expect(pv.spec.claimRef).toMatchObject({ namespace: ns(A), uid: claimA.metadata.uid });
    // And A still reads its own file.
    const a = await tenantPod(A);
    expect((await inPod(A, a, "cat /data/secret.txt")).out).toBe(SECRET[A]);
  });
});
