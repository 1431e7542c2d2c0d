// The collector against the real control plane: instances found through their compositions, pods through the
// cluster, and usage from the kwok nodes' kubelet endpoints (emulated from pod annotations, hack/dev/kwok).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  ManifestDir,
  platformNamespace,
  TestCluster,
  waitFor,
  waitForCrd,
} from "@kubeplus/testing";
import { loadApiAccess } from "@kubeplus/kube/lite";
import { instanceNamespaceLabels, releaseNameFor } from "@kubeplus/api";
import { toPrometheus } from "@kubeplus/metering";
import { Collector } from "./collector.js";

const cluster = new TestCluster();
const manifests = new ManifestDir("metrics-collector");
const CRD = "metertests.platformapi.kubeplus";
let kp = "";
const tenants = { one: "", two: "" };

function pod(
  namespace: string,
  name: string,
  release: string,
  usage: { cpu: string; memory: string; rx: number; tx: number },
  node: string,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/instance": release },
      annotations: {
        "kwok.x-k8s.io/usage-cpu": usage.cpu,
        "kwok.x-k8s.io/usage-memory": usage.memory,
        "kwok.x-k8s.io/usage-network-receive-bytes": String(usage.rx),
        "kwok.x-k8s.io/usage-network-transmit-bytes": String(usage.tx),
      },
    },
    spec: { nodeName: node, containers: [{ name: "app", image: "app:1" }] },
  };
}

/**
 * An instance of MeterTest in the KubePlus namespace, released as a helmer before instance namespaces carried the
 * instance's UID in their name would: into the namespace named after it (labelled as its own), as release
 * `metertest-<name>`. The collector meters it there (@kubeplus/api targetNamespaceFor keeps such a namespace).
 * `status.helmrelease` says a release exists.
 */
async function instance(name: string): Promise<void> {
  const target = name;
  const release = releaseNameFor("MeterTest", name);
  const file = manifests.write(`instance-${name}`, {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "MeterTest",
    metadata: { name, namespace: kp },
    spec: {},
  });
  expect((await cluster.kubectl(["create", "-f", file])).code).toBe(0);
  const patched = await cluster.kubectl([
    "patch",
    "metertest",
    name,
    "-n",
    kp,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { helmrelease: `${target}:${release}`, inventory: [] } }),
  ]);
  expect(patched.stderr).toBe("");
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "mc");
  const crd = manifests.write("crd", {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: CRD },
    spec: {
      group: "platformapi.kubeplus",
      scope: "Namespaced",
      names: {
        kind: "MeterTest",
        plural: "metertests",
        singular: "metertest",
        listKind: "MeterTestList",
      },
      versions: [
        {
          name: "v1alpha1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
          },
        },
      ],
    },
  });
  await cluster.kubectl(["apply", "-f", crd]);
  await waitForCrd(cluster, CRD);
  const rc = compositionManifest(
    {
      name: "meter",
      namespace: kp,
      kind: "MeterTest",
      plural: "metertests",
      chartURL: "https://charts.invalid/meter-0.1.0.tgz",
      chartName: "meter",
    },
    {
      resmonitor: {
        apiVersion: "workflows.kubeplus/v1alpha1",
        kind: "ResourceMonitor",
        metadata: { name: "meter-monitor" },
        spec: {
          resource: { kind: "MeterTest", group: "platformapi.kubeplus", version: "v1alpha1" },
          monitorRelationships: "all",
        },
      },
    },
  );
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  tenants.one = `${kp}-one`;
  tenants.two = `${kp}-two`;
  for (const ns of [tenants.one, tenants.two])
    await cluster.core.createNamespace({
      body: { metadata: { name: ns, labels: instanceNamespaceLabels("MeterTest", ns, kp) } },
    });
  const rel = {
    one: releaseNameFor("MeterTest", tenants.one),
    two: releaseNameFor("MeterTest", tenants.two),
  };
  const pods = [
    pod(
      tenants.one,
      "web",
      rel.one,
      { cpu: "250m", memory: "64Mi", rx: 1000, tx: 2000 },
      "kwok-node-0",
    ),
    pod(tenants.one, "db", rel.one, { cpu: "100m", memory: "32Mi", rx: 10, tx: 20 }, "kwok-node-1"),
    pod(tenants.two, "web", rel.two, { cpu: "500m", memory: "16Mi", rx: 7, tx: 8 }, "kwok-node-0"),
  ];
  for (const [i, p] of pods.entries())
    expect(
      (await cluster.kubectl(["create", "-f", manifests.write(`pod-${String(i)}`, p)])).code,
    ).toBe(0);
  for (const ns of [tenants.one, tenants.two])
    await cluster.kubectl([
      "wait",
      "--for=condition=Ready",
      "pod",
      "--all",
      "-n",
      ns,
      "--timeout=60s",
    ]);
  await instance(tenants.one);
  await instance(tenants.two);
}, 180_000);

afterAll(async () => {
  await cluster.kubectl(["delete", "resourcecomposition", "meter", "-n", kp, "--ignore-not-found"]);
  await cluster.kubectl(["delete", "crd", CRD, "--ignore-not-found"]);
  for (const ns of [tenants.one, tenants.two, kp])
    if (ns) await cluster.kubectl(["delete", "namespace", ns, "--wait=false"]);
});

describe("metrics-collector", () => {
  it("meters each instance from the kwok kubelets: exact memory and network, CPU as the annotated rate, no leaks", async () => {
    const ca = readFileSync(join(cluster.state.runDir, "pki", "ca.crt"), "utf8");
    // The admin kubeconfig through the light loader the service uses (client certificates, no client-node).
    const collector = new Collector(await loadApiAccess(cluster.state.kubeconfig, {}), 4, {
      mode: "direct",
      ca,
    });
    const mine = (u: { namespace: string }): boolean => u.namespace === kp;
    // Wait for kwok to report the pods, then two passes five seconds apart (CPU is a counter's rate).
    await waitFor(
      async () => {
        const pass = await collector.pass();
        return pass.usages.filter(mine).every((u) => u.memoryBytes !== null && u.memoryBytes > 0);
      },
      { what: "kwok to report the pods' usage", timeoutMs: 30_000 },
    );
    await sleep(5_000);
    // kwok's emulated kubelet now and then leaves a figure out of one answer; that pass says so (a null and a
    // warning, never a zero). The exact figures are asserted on a complete pass, at most a few passes later.
    const complete = (u: { warnings: string[] }): boolean =>
      !u.warnings.some((w) => /reported no|did not answer/.test(w));
    let pass = await collector.pass();
    for (let i = 0; i < 5 && !pass.usages.filter(mine).every(complete); i += 1) {
      await sleep(2_000);
      pass = await collector.pass();
    }
    expect(pass.failedNodes).toEqual([]);
    const one = pass.usages.find((u) => mine(u) && u.name === tenants.one);
    const two = pass.usages.find((u) => mine(u) && u.name === tenants.two);
    expect(one).toMatchObject({
      kind: "MeterTest",
      targetNamespace: tenants.one,
      pods: 2,
      containers: 2,
      nodes: 2,
      notRunningPods: 0,
      memoryBytes: 96 * 1024 ** 2,
      networkReceiveBytes: 1010,
      networkTransmitBytes: 2020,
      warnings: [],
    });
    // CPU is a rate between two reads of a counter, each dated when its node answered: a busy machine's latency
    // jitter moves it by a few thousandths of a core, never by another pod's share.
    expect(Math.abs((one?.cpuCores ?? 0) - 0.35)).toBeLessThan(0.02);
    expect(two).toMatchObject({ pods: 1, memoryBytes: 16 * 1024 ** 2, networkReceiveBytes: 7 });
    expect(Math.abs((two?.cpuCores ?? 0) - 0.5)).toBeLessThan(0.02);
    const text = toPrometheus(pass.usages.filter(mine));
    expect(text).toContain(
      `kubeplus_instance_memory_working_set_bytes{kind="MeterTest",instance="${tenants.one}",namespace="${kp}"} ${String(96 * 1024 ** 2)}`,
    );
  });

  it("gives a partial result with a warning when a node does not answer", async () => {
    // Kubelets that cannot be verified (a CA that did not sign them) count as not answering.
    const collector = new Collector(cluster.kc, 4, {
      mode: "direct",
      ca: "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n",
    });
    const pass = await collector.pass();
    const one = pass.usages.find((u) => u.namespace === kp && u.name === tenants.one);
    expect(pass.failedNodes.length).toBeGreaterThan(0);
    expect(one?.pods).toBe(2);
    expect(one?.memoryBytes).toBeNull();
    expect(one?.warnings.join("\n")).toContain("did not answer");
  });
});
