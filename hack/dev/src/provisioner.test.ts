import { describe, expect, it } from "vitest";
import {
  LOCAL_PROVISIONER,
  planVolumes,
  realNodeNames,
  storageBytes,
  type Claim,
  type Volume,
} from "./provisioner.js";

const classes = [
  { metadata: { name: "standard" }, provisioner: LOCAL_PROVISIONER },
  { metadata: { name: "other" }, provisioner: "ebs.csi.aws.com" },
];
const claim = (name: string, over: Partial<Claim["spec"]> = {}, node?: string): Claim => ({
  metadata: {
    name,
    namespace: "t1",
    uid: `uid-${name}`,
    ...(node ? { annotations: { "volume.kubernetes.io/selected-node": node } } : {}),
  },
  spec: {
    storageClassName: "standard",
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "5Gi" } },
    ...over,
  },
});

describe("local volume provisioner", () => {
  it("makes a volume for a claim the scheduler placed, pinned to that node and bound to that claim only", () => {
    const { create } = planVolumes([claim("data", {}, "kwok-node-1")], [], classes);
    expect(create).toHaveLength(1);
    expect(create[0]).toMatchObject({
      metadata: { name: "pvc-uid-data" },
      spec: {
        capacity: { storage: "5Gi" },
        storageClassName: "standard",
        persistentVolumeReclaimPolicy: "Delete",
        claimRef: { namespace: "t1", name: "data", uid: "uid-data" },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: "kubernetes.io/hostname", values: ["kwok-node-1"] }] },
            ],
          },
        },
      },
    });
  });

  it("leaves unplaced, bound, foreign-class and already provisioned claims alone", () => {
    const existing: Volume[] = [{ metadata: { name: "pvc-uid-done" } }];
    const { create } = planVolumes(
      [
        claim("waiting"),
        claim("bound", { volumeName: "pv-1" }, "n"),
        claim("foreign", { storageClassName: "other" }, "n"),
        claim("done", {}, "n"),
      ],
      existing,
      classes,
    );
    expect(create).toEqual([]);
  });

  it("deletes its own released volumes (reclaim Delete), never anyone else's", () => {
    const ours = { "pv.kubernetes.io/provisioned-by": LOCAL_PROVISIONER };
    const volumes: Volume[] = [
      { metadata: { name: "released", annotations: ours }, status: { phase: "Released" } },
      { metadata: { name: "bound", annotations: ours }, status: { phase: "Bound" } },
      { metadata: { name: "foreign" }, status: { phase: "Released" } },
    ];
    expect(planVolumes([], volumes, classes).remove).toEqual(["released"]);
  });

  it("gives a claim placed on a real node a local volume (measured by its kubelet), a kwok node's a hostPath folder", () => {
    const real = realNodeNames([
      { metadata: { name: "real-node-0", labels: { "kubeplus.dev/real-node": "true" } } },
      { metadata: { name: "kwok-node-0", labels: { type: "kwok" } } },
    ]);
    expect([...real]).toEqual(["real-node-0"]);
    const { create } = planVolumes(
      [claim("on-real", {}, "real-node-0"), claim("on-kwok", {}, "kwok-node-0")],
      [],
      classes,
      { volumesDir: "/run/v", realNodes: real },
    );
    expect(create.map((pv) => (pv as { spec: object }).spec)).toEqual([
      expect.objectContaining({ local: { path: "/run/v/pvc-uid-on-real" } }),
      expect.objectContaining({ hostPath: { path: "/run/v/pvc-uid-on-kwok", type: "Directory" } }),
    ]);
    expect(create[0]).not.toHaveProperty("spec.hostPath");
  });

  it.each([
    ["64Mi", 64 * 2 ** 20],
    ["5Gi", 5 * 2 ** 30],
    ["1G", 1e9],
    ["1000", 1000],
    ["1.5Ki", 1536],
    ["lots", undefined],
  ])("reads the storage quantity %s as %s bytes", (q, bytes) => {
    expect(storageBytes(q)).toBe(bytes);
  });
});
