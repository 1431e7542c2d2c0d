/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/api/schemas/resourcepolicy.v1alpha1.schema.json. Regenerate with `make generate`.
 */

export interface ResourcePolicySpec {
  /**
   * The generated kind this object applies to.
   */
  resource?: {
    kind?: string;
    group?: string;
    version?: string;
  };
  policy?: {
    /**
     * Pod policy applied to the chart's workloads: requests and limits for containers that set none, and node isolation.
     */
    podconfig?: {
      requests?: {
        /**
         * CPU request, e.g. 100m.
         */
        cpu?: number | string;
        /**
         * Memory request, e.g. 1Gi.
         */
        memory?: number | string;
      };
      limits?: {
        /**
         * CPU limit, e.g. 200m.
         */
        cpu?: number | string;
        /**
         * Memory limit, e.g. 2Gi.
         */
        memory?: number | string;
      };
      /**
       * Node isolation: either `values.<field>` (the node name is taken from that field of each instance's spec, as in the original KubePlus) or a literal `key=value` node label.
       */
      nodeSelector?: string;
      /**
       * Accepted for compatibility with KubePlus; our policies never override requests or limits a container already sets.
       */
      override?: boolean;
      /**
       * Accepted for compatibility with KubePlus; not used.
       */
      scope?: string;
    };
    /**
     * Per-instance ResourceQuota: give none or all four values.
     */
    quota?: {
      /**
       * Total CPU requests of an instance.
       */
      "requests.cpu"?: number | string;
      /**
       * Total memory requests of an instance.
       */
      "requests.memory"?: number | string;
      /**
       * Total CPU limits of an instance.
       */
      "limits.cpu"?: number | string;
      /**
       * Total memory limits of an instance.
       */
      "limits.memory"?: number | string;
    };
  };
}

export interface ResourcePolicyStatus {
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
