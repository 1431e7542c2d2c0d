import { describe, expect, it } from "vitest";
import { hasReadiness, objectStatus, type LiveObject, type ObjectStatusKind } from "./readiness.js";

const obj = (kind: string, spec: unknown, status: unknown, generation = 2): LiveObject => ({
  apiVersion: "v1",
  kind,
  metadata: { generation },
  spec,
  status,
});
const cond = (type: string, status: string, reason = "", message = "") => ({
  type,
  status,
  reason,
  message,
});

const deployment = (status: Record<string, unknown>, replicas = 2): LiveObject =>
  obj("Deployment", { replicas }, { observedGeneration: 2, ...status });
const statefulSet = (status: Record<string, unknown>, spec: Record<string, unknown> = {}) =>
  obj("StatefulSet", { replicas: 2, ...spec }, { observedGeneration: 2, ...status });
const daemonSet = (status: Record<string, unknown>) =>
  obj("DaemonSet", {}, { observedGeneration: 2, desiredNumberScheduled: 3, ...status });

const rolledOut = {
  replicas: 2,
  updatedReplicas: 2,
  readyReplicas: 2,
  availableReplicas: 2,
};
const setDone = {
  replicas: 2,
  readyReplicas: 2,
  updatedReplicas: 2,
  currentRevision: "web-2",
  updateRevision: "web-2",
};
const dsDone = {
  currentNumberScheduled: 3,
  updatedNumberScheduled: 3,
  numberAvailable: 3,
  numberReady: 3,
};

const cases: [string, LiveObject, ObjectStatusKind, string][] = [
  // Deployment
  ["a rolled-out Deployment", deployment(rolledOut), "Current", ""],
  [
    "a Deployment mid-rollout whose old pods are available",
    deployment({ replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 }),
    "InProgress",
    "1 of 2 updated",
  ],
  [
    "a Deployment whose new spec its controller has not seen",
    obj("Deployment", { replicas: 2 }, { ...rolledOut, observedGeneration: 1 }, 2),
    "InProgress",
    "generation 2 not observed yet (observed 1)",
  ],
  [
    "a Deployment its controller has never seen",
    obj("Deployment", { replicas: 1 }, {}, 1),
    "InProgress",
    "not observed by its controller yet",
  ],
  [
    "a Deployment whose old pods are still terminating",
    deployment({ ...rolledOut, replicas: 3 }),
    "InProgress",
    "1 old replica(s) pending termination",
  ],
  [
    "an updated Deployment whose new pods are not available",
    deployment({ ...rolledOut, availableReplicas: 1, readyReplicas: 1 }),
    "InProgress",
    "1 of 2 available",
  ],
  [
    "a Deployment past its progress deadline",
    deployment({
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 2,
      conditions: [
        cond(
          "Progressing",
          "False",
          "ProgressDeadlineExceeded",
          'ReplicaSet "web-2" has timed out',
        ),
      ],
    }),
    "Failed",
    'progress deadline exceeded: ReplicaSet "web-2" has timed out',
  ],
  ["a Deployment of no replicas", deployment({}, 0), "Current", ""],
  // StatefulSet
  ["a rolled-out StatefulSet", statefulSet(setDone), "Current", ""],
  [
    "a StatefulSet whose new spec is not observed",
    obj("StatefulSet", { replicas: 2 }, { ...setDone, observedGeneration: 1 }),
    "InProgress",
    "generation 2 not observed yet (observed 1)",
  ],
  [
    "a StatefulSet with a pod not ready",
    statefulSet({ ...setDone, readyReplicas: 1 }),
    "InProgress",
    "1 of 2 ready",
  ],
  [
    "a StatefulSet mid-rollout (old pods ready)",
    statefulSet({ ...setDone, updatedReplicas: 1, updateRevision: "web-3" }),
    "InProgress",
    "1 of 2 updated",
  ],
  [
    "a StatefulSet whose pods are updated but the revision not yet current",
    statefulSet({ ...setDone, updateRevision: "web-3" }),
    "InProgress",
    "revision web-3 not rolled out yet (current web-2)",
  ],
  [
    "a StatefulSet with OnDelete updates",
    statefulSet(
      { ...setDone, updatedReplicas: 0, updateRevision: "web-3" },
      {
        updateStrategy: { type: "OnDelete" },
      },
    ),
    "Current",
    "",
  ],
  [
    "a partitioned StatefulSet whose pods above the partition are updated",
    statefulSet(
      { ...setDone, updatedReplicas: 1, updateRevision: "web-3" },
      { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } },
    ),
    "Current",
    "",
  ],
  [
    "a partitioned StatefulSet still rolling out",
    statefulSet(
      { ...setDone, updatedReplicas: 0, updateRevision: "web-3" },
      { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } },
    ),
    "InProgress",
    "0 of 1 updated (partition 1)",
  ],
  // DaemonSet
  ["a rolled-out DaemonSet", daemonSet(dsDone), "Current", ""],
  [
    "a DaemonSet mid-rollout whose old pods are available",
    daemonSet({ ...dsDone, updatedNumberScheduled: 1 }),
    "InProgress",
    "1 of 3 updated",
  ],
  [
    "a DaemonSet with a pod unavailable",
    daemonSet({ ...dsDone, numberAvailable: 2 }),
    "InProgress",
    "2 of 3 available",
  ],
  [
    "a DaemonSet whose new spec is not observed",
    obj("DaemonSet", {}, { ...dsDone, desiredNumberScheduled: 3, observedGeneration: 1 }),
    "InProgress",
    "generation 2 not observed yet (observed 1)",
  ],
  // ReplicaSet
  [
    "a ReplicaSet with all replicas available",
    obj(
      "ReplicaSet",
      { replicas: 2 },
      { replicas: 2, fullyLabeledReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
    ),
    "Current",
    "",
  ],
  [
    "a ReplicaSet short of available replicas",
    obj(
      "ReplicaSet",
      { replicas: 2 },
      { replicas: 2, fullyLabeledReplicas: 2, availableReplicas: 1, readyReplicas: 1 },
    ),
    "InProgress",
    "1 of 2 available",
  ],
  [
    "a ReplicaSet whose pods are refused",
    obj(
      "ReplicaSet",
      { replicas: 2 },
      {
        replicas: 0,
        conditions: [cond("ReplicaFailure", "True", "FailedCreate", "pods are forbidden")],
      },
    ),
    "InProgress",
    "0 of 2 created; replica failure: pods are forbidden",
  ],
  // Job
  [
    "a complete Job",
    obj("Job", { completions: 1 }, { succeeded: 1, conditions: [cond("Complete", "True")] }),
    "Current",
    "",
  ],
  [
    "a failed Job",
    obj(
      "Job",
      { completions: 1 },
      {
        failed: 7,
        conditions: [
          cond(
            "Failed",
            "True",
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit",
          ),
        ],
      },
    ),
    "Failed",
    "failed (BackoffLimitExceeded): Job has reached the specified backoff limit",
  ],
  [
    "a running Job",
    obj("Job", { completions: 3 }, { succeeded: 1, active: 1, failed: 1 }),
    "InProgress",
    "1 of 3 completed (1 active, 1 failed)",
  ],
  [
    "a Job whose pods succeeded but that is not yet marked Complete",
    obj("Job", { completions: 1 }, { succeeded: 1 }),
    "InProgress",
    "1 of 1 completed (0 active, 0 failed)",
  ],
  // Pod
  [
    "a Running, Ready pod",
    obj("Pod", {}, { phase: "Running", conditions: [cond("Ready", "True")] }),
    "Current",
    "",
  ],
  [
    "a Running pod not Ready",
    obj(
      "Pod",
      {},
      { phase: "Running", conditions: [cond("Ready", "False", "", "containers not ready")] },
    ),
    "InProgress",
    "pod Running, not ready: containers not ready",
  ],
  ["a Succeeded pod", obj("Pod", {}, { phase: "Succeeded" }), "Current", ""],
  [
    "a Failed pod",
    obj("Pod", {}, { phase: "Failed", message: "OOMKilled" }),
    "Failed",
    "pod failed: OOMKilled",
  ],
  [
    "a pod in CrashLoopBackOff",
    obj(
      "Pod",
      {},
      {
        phase: "Running",
        containerStatuses: [{ name: "app", state: { waiting: { reason: "CrashLoopBackOff" } } }],
      },
    ),
    "Failed",
    "container app is in CrashLoopBackOff",
  ],
  // PersistentVolumeClaim
  ["a Bound claim", obj("PersistentVolumeClaim", {}, { phase: "Bound" }), "Current", ""],
  [
    "a Pending claim",
    obj("PersistentVolumeClaim", {}, { phase: "Pending" }),
    "InProgress",
    "claim Pending, not bound",
  ],
  // Service
  ["a ClusterIP Service", obj("Service", { type: "ClusterIP" }, {}), "Current", ""],
  [
    "a LoadBalancer Service without an address",
    obj("Service", { type: "LoadBalancer" }, { loadBalancer: {} }),
    "InProgress",
    "no load balancer address yet",
  ],
  [
    "a LoadBalancer Service with an address",
    obj("Service", { type: "LoadBalancer" }, { loadBalancer: { ingress: [{ ip: "10.0.0.1" }] } }),
    "Current",
    "",
  ],
  // Custom resources
  [
    "a custom resource that is Ready",
    obj("Certificate", {}, { conditions: [cond("Ready", "True")] }),
    "Current",
    "",
  ],
  [
    "a custom resource not Ready yet",
    obj(
      "Certificate",
      {},
      { conditions: [cond("Ready", "False", "Issuing", "issuing the certificate")] },
    ),
    "InProgress",
    "not ready: issuing the certificate",
  ],
  [
    "a custom resource that is Stalled",
    obj(
      "Certificate",
      {},
      { conditions: [cond("Stalled", "True", "", "bad issuer"), cond("Ready", "False")] },
    ),
    "Failed",
    "stalled: bad issuer",
  ],
  [
    "a custom resource whose new spec is not observed",
    obj("Certificate", {}, { observedGeneration: 1, conditions: [cond("Ready", "True")] }),
    "InProgress",
    "generation 2 not observed yet (observed 1)",
  ],
  ["a custom resource without conditions", obj("Widget", {}, {}), "Current", ""],
  [
    "an object being deleted",
    {
      ...deployment(rolledOut),
      metadata: { generation: 2, deletionTimestamp: "2026-12-02T10:00:00Z" },
    },
    "InProgress",
    "being deleted",
  ],
];

describe("objectStatus", () => {
  it.each(cases)("%s is %s (%s)", (_what, object, status, message) => {
    expect(objectStatus(object)).toEqual({ status, message });
  });
});

describe("hasReadiness", () => {
  it.each([
    ["apps/v1", "Deployment", {}, true],
    ["batch/v1", "Job", {}, true],
    ["v1", "PersistentVolumeClaim", {}, true],
    ["v1", "Pod", {}, true],
    ["v1", "Service", { type: "LoadBalancer" }, false],
    ["v1", "Service", { type: "ClusterIP" }, false],
    ["v1", "ConfigMap", {}, false],
    ["rbac.authorization.k8s.io/v1", "Role", {}, false],
    ["networking.k8s.io/v1", "NetworkPolicy", {}, false],
    ["policy/v1", "PodDisruptionBudget", {}, false],
    ["cert-manager.io/v1", "Certificate", {}, true],
    ["monitoring.coreos.com/v1", "ServiceMonitor", {}, true],
  ])("%s %s (%j) is read back: %s", (apiVersion, kind, spec, expected) => {
    expect(hasReadiness({ apiVersion, kind, spec })).toBe(expected);
  });
});
