/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-usage.schema.json. Regenerate with `make generate`.
 */

/**
 * What one instance consumes, from one collection pass of the metrics-collector (sent every interval, and the reply to a collect request). A null figure was not measured (a node or pod did not answer: see warnings), never a silent zero.
 */
export interface InstanceUsage {
  version: 1;
  kind: string;
  group: string;
  /**
   * The instance object's namespace.
   */
  namespace: string;
  name: string;
  /**
   * The Helm release's name.
   */
  release: string;
  /**
   * The namespace the release lives in.
   */
  targetNamespace: string;
  /**
   * When the pass ran (RFC 3339).
   */
  collectedAt: string;
  monitorRelationships: "owner" | "all";
  /**
   * Objects of the release.
   */
  subresources: number;
  pods: number;
  /**
   * Containers and init containers.
   */
  containers: number;
  /**
   * Distinct nodes the pods run on.
   */
  nodes: number;
  /**
   * Pods neither Running nor Succeeded.
   */
  notRunningPods: number;
  /**
   * CPU in use, cores (rate of the kubelet's cumulative counter).
   */
  cpuCores: number | null;
  /**
   * Working-set memory, bytes.
   */
  memoryBytes: number | null;
  /**
   * Capacity of the instance's bound volume claims, bytes.
   */
  storageBytes: number;
  /**
   * Bytes used on those volumes, where the kubelet reports volume stats.
   */
  storageUsedBytes: number | null;
  /**
   * Bytes received since the pods started (counter).
   */
  networkReceiveBytes: number | null;
  /**
   * Bytes transmitted since the pods started (counter).
   */
  networkTransmitBytes: number | null;
  perPod: {
    name: string;
    node: string;
    phase: string;
    containers: number;
    cpuCores: number | null;
    memoryBytes: number | null;
    networkReceiveBytes: number | null;
    networkTransmitBytes: number | null;
  }[];
  /**
   * The instance namespace's ResourceQuota: used against hard, per resource, in base units (cores, bytes, counts).
   */
  quota: {
    resource: string;
    used: number;
    hard: number;
  }[];
  /**
   * Application metrics named by the composition's resmonitor.appEndpoints.
   */
  custom: {
    name: string;
    pod: string;
    value: number;
  }[];
  warnings: string[];
}
