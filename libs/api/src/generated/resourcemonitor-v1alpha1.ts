/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/api/schemas/resourcemonitor.v1alpha1.schema.json. Regenerate with `make generate`.
 */

export interface ResourceMonitorSpec {
  /**
   * The generated kind this object applies to.
   */
  resource?: {
    kind?: string;
    group?: string;
    version?: string;
  };
  /**
   * Which pods count for an instance: `owner` (the release's objects and what they own) or `all` (also pods related by labels, selectors and annotations).
   */
  monitorRelationships?: "all" | "owner";
  /**
   * Application metrics to scrape from the instance's pods.
   */
  appEndpoints?: {
    /**
     * Label selector of the pods, e.g. app=web.
     */
    label?: string;
    /**
     * HTTP path of the Prometheus endpoint, e.g. metrics.
     */
    endpoint?: string;
    /**
     * Metric names to report.
     */
    metrics?: string[];
  };
}

export interface ResourceMonitorStatus {
  /**
   * The metadata.generation the status describes.
   */
  observedGeneration?: number;
  /**
   * Standard conditions: Ready (with a reason and message on every failure path), Reconciling, Stalled.
   */
  conditions?: {
    type: string;
    status: "True" | "False" | "Unknown";
    reason: string;
    message: string;
    lastTransitionTime: string;
    observedGeneration?: number;
  }[];
}
