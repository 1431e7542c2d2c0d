import type {
  ResourceCompositionSpec,
  ResourceCompositionStatus,
} from "./generated/resourcecomposition-v1alpha1.js";
import type {
  ResourceMonitorSpec,
  ResourceMonitorStatus,
} from "./generated/resourcemonitor-v1alpha1.js";
import type {
  ResourcePolicySpec,
  ResourcePolicyStatus,
} from "./generated/resourcepolicy-v1alpha1.js";

/** The part of metav1.ObjectMeta the platform reads and writes (kept here so that the API stays a leaf). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
}

export interface KubeObject<Spec, Status> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type ResourceComposition = KubeObject<ResourceCompositionSpec, ResourceCompositionStatus>;
export type ResourcePolicy = KubeObject<ResourcePolicySpec, ResourcePolicyStatus>;
export type ResourceMonitor = KubeObject<ResourceMonitorSpec, ResourceMonitorStatus>;

/** An instance of a generated kind: its spec is the chart's values. */
export type Instance = KubeObject<Record<string, unknown>, InstanceStatus>;

/** Status of an instance of a generated kind (the schema the helmer writes). */
export interface InstanceStatus {
  /** `<namespace>:<release>`, the field the original KubePlus's users read. */
  helmrelease?: string;
  /** The namespace of the instance's release (`@kubeplus/api` targetNamespaceFor), for people and scripts. */
  namespace?: string;
  observedGeneration?: number;
  conditions?: import("./conditions.js").Condition[];
  chart?: { name?: string; version?: string; ref?: string; digest?: string };
  inventory?: { kind: string; name: string; namespace?: string; apiVersion?: string }[];
  error?: string;
  /** The chart the last failed upgrade tried (the release was rolled back to its previous revision). */
  failedChart?: { ref?: string; digest?: string; generation?: number } | null;
}

export type {
  ResourceCompositionSpec,
  ResourceCompositionStatus,
  ResourcePolicySpec,
  ResourcePolicyStatus,
};
export type { ResourceMonitorSpec, ResourceMonitorStatus };
