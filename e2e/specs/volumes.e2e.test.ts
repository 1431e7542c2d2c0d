// Claims of the default StorageClass bind the way they would on a real cluster with a dynamic provisioner: the
// scheduler picks a node (WaitForFirstConsumer), our local provisioner makes a volume there, the PV controller binds
// it, the pod runs; deleting the claim deletes the volume (reclaim policy Delete).
import { describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "@kubeplus/testing";

const cluster = new TestCluster();

async function expectVolumeFor(
  name: string,
  want: { namespace: string; claim: string; node: string },
): Promise<void> {
  const pv = await cluster.core.readPersistentVolume({ name });
  expect(pv.spec?.capacity?.storage).toBe("2Gi");
  expect(pv.spec?.claimRef).toMatchObject({ namespace: want.namespace, name: want.claim });
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  expect(terms[0]?.matchExpressions?.[0]?.values).toEqual([want.node]);
}

describe("persistent volumes on the local control plane", () => {
  it("binds a StatefulSet's claim to a volume on the pod's node, and deletes the volume with the claim", async () => {
    const namespace = await cluster.freshNamespace("volumes");
    await cluster.apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          replicas: 1,
          selector: { matchLabels: { app: "db" } },
          template: {
            metadata: { labels: { app: "db" } },
            spec: {
              containers: [
                {
                  name: "db",
                  image: "mysql:8",
                  volumeMounts: [{ name: "data", mountPath: "/var/lib/mysql" }],
                },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } },
            },
          ],
        },
      },
    });
    const pod = await waitFor(
      async () => {
        const p = await cluster.core
          .readNamespacedPod({ name: "db-0", namespace })
          .catch(() => undefined);
        return p?.status?.phase === "Running" ? p : undefined;
      },
      { what: "db-0 Running with its volume", diagnose: () => cluster.diagnose(namespace) },
    );
    const claim = await cluster.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace,
    });
    expect(claim.status?.phase).toBe("Bound");
    expect(claim.spec?.storageClassName).toBe("standard");
    const volumeName = claim.spec?.volumeName ?? "";
    await expectVolumeFor(volumeName, {
      namespace,
      claim: "data-db-0",
      node: pod.spec?.nodeName ?? "",
    });

    await cluster.apps.deleteNamespacedStatefulSet({ name: "db", namespace });
    await cluster.core.deleteNamespacedPersistentVolumeClaim({ name: "data-db-0", namespace });
    await waitFor(
      async () =>
        !(await cluster.core.readPersistentVolume({ name: volumeName }).then(
          () => true,
          () => false,
        )),
      { what: `volume ${volumeName} to be deleted with its claim`, timeoutMs: 60_000 },
    );
  });
});
