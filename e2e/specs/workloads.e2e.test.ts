// Proof of realism: real controllers and a real scheduler put pods on kwok nodes, quota and limits are enforced by
// the apiserver's admission plugins, and namespace deletion really completes.
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { BlockList } from "node:net";
import { describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "@kubeplus/testing";

const cluster = new TestCluster();

function deployment(
  name: string,
  replicas: number,
  nodeSelector?: Record<string, string>,
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(nodeSelector ? { nodeSelector } : {}),
          containers: [{ name: "web", image: "nginx:1.27" }],
        },
      },
    },
  };
}

async function runningPods(namespace: string, app: string): Promise<V1Pod[]> {
  const pods = await cluster.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.filter((p) => p.status?.phase === "Running");
}

/** kwok's emulated pods' range (hack/dev network-plan.ts). */
function kwokPodRange(): BlockList {
  const range = new BlockList();
  const [base = "", bits = "32"] = cluster.state.network.kwokPodCidr.split("/");
  range.addSubnet(base, Number(bits));
  return range;
}

describe("workloads on kwok nodes", () => {
  it("runs a Deployment's pods to Running and available", async () => {
    const namespace = await cluster.freshNamespace("deploy");
    await cluster.apps.createNamespacedDeployment({ namespace, body: deployment("web", 3) });
    const pods = await waitFor(
      async () => {
        const running = await runningPods(namespace, "web");
        return running.length === 3 ? running : undefined;
      },
      { what: "3 Running pods of web", diagnose: () => cluster.diagnose(namespace) },
    );
    const kwokPods = kwokPodRange();
    for (const pod of pods) {
      expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d+$/);
      // kwok gives its pods addresses from its own range of the network plan (198.18.0.0/15, never 10/8).
      expect(kwokPods.check(pod.status?.podIP ?? "")).toBe(true);
      expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    await waitFor(
      async () => {
        const d = await cluster.apps.readNamespacedDeployment({ name: "web", namespace });
        return d.status?.availableReplicas === 3;
      },
      { what: "web to report 3 available replicas", diagnose: () => cluster.diagnose(namespace) },
    );
  });

  it("places pods on the node a nodeSelector chooses", async () => {
    const namespace = await cluster.freshNamespace("pin");
    const nodes = await cluster.core.listNode();
    expect(nodes.items.length).toBeGreaterThanOrEqual(3);
    const zones = new Set(
      nodes.items.map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"]),
    );
    expect(zones.size).toBeGreaterThanOrEqual(3);
    const target = "kwok-node-2";
    await cluster.apps.createNamespacedDeployment({
      namespace,
      body: deployment("pinned", 4, { "kubernetes.io/hostname": target }),
    });
    const pods = await waitFor(
      async () => {
        const running = await runningPods(namespace, "pinned");
        return running.length === 4 ? running : undefined;
      },
      { what: "4 Running pods of pinned", diagnose: () => cluster.diagnose(namespace) },
    );
    expect(new Set(pods.map((p) => p.spec?.nodeName))).toEqual(new Set([target]));
  });
});

describe("quota and limits", () => {
  it("fills default requests from a LimitRange and rejects a pod over the ResourceQuota", async () => {
    const namespace = await cluster.freshNamespace("quota");
    await cluster.core.createNamespacedLimitRange({
      namespace,
      body: {
        metadata: { name: "defaults" },
        spec: {
          limits: [
            {
              type: "Container",
              defaultRequest: { cpu: "100m", memory: "64Mi" },
              _default: { cpu: "200m", memory: "128Mi" },
            },
          ],
        },
      },
    });
    await cluster.core.createNamespacedResourceQuota({
      namespace,
      body: {
        metadata: { name: "tenant" },
        spec: {
          hard: {
            "requests.cpu": "500m",
            "requests.memory": "1Gi",
            "limits.cpu": "1",
            "limits.memory": "2Gi",
          },
        },
      },
    });
    // The quota controller must have computed usage before admission can charge against it.
    await waitFor(
      async () => {
        const q = await cluster.core.readNamespacedResourceQuota({ name: "tenant", namespace });
        return q.status?.hard?.["requests.cpu"] !== undefined;
      },
      {
        what: "the quota controller to fill in quota status",
        diagnose: () => cluster.diagnose(namespace),
      },
    );

    const plain = await cluster.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "plain" },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    });
    expect(plain.spec?.containers[0]?.resources?.requests).toEqual({ cpu: "100m", memory: "64Mi" });
    expect(plain.spec?.containers[0]?.resources?.limits).toEqual({ cpu: "200m", memory: "128Mi" });

    const big = cluster.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: "big" },
        spec: {
          containers: [
            {
              name: "c",
              image: "busybox",
              resources: { requests: { cpu: "1" }, limits: { cpu: "1" } },
            },
          ],
        },
      },
    });
    await expect(big).rejects.toMatchObject({ code: 403 });
    await expect(big).rejects.toThrow(/exceeded quota: tenant/);
  });
});

describe("namespace deletion", () => {
  it("completes, and the namespace's objects are gone", async () => {
    const namespace = await cluster.freshNamespace("gone");
    await cluster.apps.createNamespacedDeployment({ namespace, body: deployment("doomed", 2) });
    await cluster.core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: "cfg" }, data: { a: "1" } },
    });
    await waitFor(async () => (await runningPods(namespace, "doomed")).length === 2, {
      what: "2 Running pods of doomed",
      diagnose: () => cluster.diagnose(namespace),
    });
    await cluster.core.deleteNamespace({ name: namespace });
    await waitFor(
      async () => {
        const code = await cluster.core
          .readNamespace({ name: namespace })
          .then(() => 200)
          .catch((e: unknown) => (e as { code?: number }).code);
        return code === 404;
      },
      {
        what: `namespace ${namespace} to be deleted`,
        timeoutMs: 60_000,
        diagnose: () => cluster.diagnose(namespace),
      },
    );
    const leftovers = await cluster.core.listPodForAllNamespaces({
      fieldSelector: `metadata.namespace=${namespace}`,
    });
    expect(leftovers.items).toEqual([]);
  });
});
