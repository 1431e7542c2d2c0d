// Proof of realism: RBAC is enforced on real requests by a non-admin identity.
import { CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "@kubeplus/testing";

const cluster = new TestCluster();

describe("RBAC", () => {
  it("denies a non-admin identity, then allows it after a RoleBinding, for exactly what the Role grants", async () => {
    const namespace = await cluster.freshNamespace("rbac");
    const alice = (await cluster.identity("alice", ["team-a"])).kc.makeApiClient(CoreV1Api);

    await expect(alice.listNamespacedConfigMap({ namespace })).rejects.toMatchObject({ code: 403 });

    await cluster.rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: "configmap-reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
      },
    });
    await cluster.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "alice-reads-configmaps" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "alice" }],
      },
    });

    const list = await waitFor(() => alice.listNamespacedConfigMap({ namespace }), {
      what: "alice to be allowed to list configmaps after the RoleBinding",
    });
    expect(list.items.map((c) => c.metadata?.name)).toContain("kube-root-ca.crt");
    // Only what the Role says: no writes, no secrets, nothing in another namespace.
    await expect(
      alice.createNamespacedConfigMap({ namespace, body: { metadata: { name: "x" } } }),
    ).rejects.toMatchObject({ code: 403 });
    await expect(alice.listNamespacedSecret({ namespace })).rejects.toMatchObject({ code: 403 });
    await expect(alice.listNamespacedConfigMap({ namespace: "kube-system" })).rejects.toMatchObject(
      {
        code: 403,
      },
    );
  });

  it("authorizes groups carried in the client certificate", async () => {
    const namespace = await cluster.freshNamespace("rbac-group");
    const bob = (await cluster.identity("bob", ["auditors"])).kc.makeApiClient(CoreV1Api);
    await cluster.rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "auditors-view" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "auditors" }],
      },
    });
    const pods = await waitFor(() => bob.listNamespacedPod({ namespace }), {
      what: "group auditors to be allowed to list pods",
    });
    expect(pods.items).toEqual([]);
  });
});
