/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/api/schemas/resourcecomposition.v1alpha1.schema.json. Regenerate with `make generate`.
 */

export interface ResourceCompositionSpec {
  newResource: {
    resource: {
      /**
       * Kind of the new API, e.g. WordpressService.
       */
      kind: string;
      /**
       * API group, e.g. platformapi.kubeplus.
       */
      group: string;
      /**
       * API version, e.g. v1alpha1.
       */
      version: string;
      /**
       * Plural resource name, e.g. wordpressservices.
       */
      plural: string;
    };
    /**
     * Where the chart comes from: https:// or http:// URL of a chart archive, oci://registry/repo/chart:version, or file:///<name>.tgz for a chart uploaded with `kubectl upload chart`.
     */
    chartURL: string;
    /**
     * Name of the chart (Chart.yaml name, the archive's top folder).
     */
    chartName: string;
  };
  /**
   * An embedded ResourcePolicy: pod policies and per-instance quota.
   */
  respolicy?: {
    apiVersion?: string;
    kind?: string;
    /**
     * Only the name is used.
     */
    metadata?: {
      name?: string;
    };
    spec?: {
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
    };
  };
  /**
   * An embedded ResourceMonitor: how instances are metered.
   */
  resmonitor?: {
    apiVersion?: string;
    kind?: string;
    /**
     * Only the name is used.
     */
    metadata?: {
      name?: string;
    };
    spec?: {
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
    };
  };
  /**
   * Tenant isolation settings (KubePlus-TS extension; defaults are safe).
   */
  isolation?: {
    /**
     * Pod Security Standard enforced in each instance namespace.
     */
    podSecurity?: "privileged" | "baseline" | "restricted";
    /**
     * Namespaces (ingress controllers, monitoring) allowed to reach every instance.
     */
    ingressFromNamespaces?: string[];
    /**
     * CIDRs instances may send traffic to (default: anywhere outside the cluster's tenants).
     */
    egressCIDRs?: string[];
    /**
     * Opt-ins for chart features that weaken tenant isolation.
     */
    allow?: ("hostPath" | "hostNetwork" | "hostPID" | "privileged")[];
    /**
     * ClusterRoles a chart's RoleBindings may bind inside its instance's namespace (for example view); a RoleBinding to any other ClusterRole (cluster-admin, admin, KubePlus's own roles) is refused. Roles the chart creates itself may always be bound.
     */
    allowClusterRoles?: string[];
    /**
     * API groups whose CustomResourceDefinitions the chart's crds/ folder may register (KubePlus applies them itself; helm runs with --skip-crds). A crds/ document of any other group or kind refuses the composition. The provider must also be allowed these groups (provider-kubeconfig create --crd-group).
     */
    crdGroups?: string[];
  };
  /**
   * How a chart change rolls out across existing instances (KubePlus-TS extension).
   */
  upgrade?: {
    /**
     * Instances upgraded at the same time.
     */
    maxInFlight?: number;
    /**
     * The rollout stops once this many instances have failed to upgrade to the new chart (they are rolled back); fix the chart and change it again to resume.
     */
    failureBudget?: number;
    /**
     * Upgrade the instances whose values fit the new chart even when others do not (those are held on their chart, listed in status.compatibility). By default a chart change that some instance's values do not fit is not rolled out at all until the chart or those instances change.
     */
    allowIncompatible?: boolean;
    /**
     * Instances that move to a new chart first and must stay Ready for soakSeconds before any other instance moves.
     */
    canary?: {
      /**
       * The first N instances (by namespace/name) are the canary, unless selector is given.
       */
      count?: number;
      /**
       * Instances whose labels match are the canary (instead of count).
       */
      selector?: {
        matchLabels?: {
          [k: string]: string | undefined;
        };
      };
      /**
       * How long every canary instance must stay Ready on the new chart before the other waves go.
       */
      soakSeconds?: number;
    };
    /**
     * Instances per wave after the canary: a number, or a percentage of the instances ("25%"). A wave starts when every instance of the waves before it has moved (or failed, or is pinned or incompatible). By default, one wave: every instance, at most maxInFlight at a time.
     */
    waveSize?: number | string;
    /**
     * Stop starting chart upgrades (those under way finish); false resumes. kubectl fleet pause|resume <Kind> sets it.
     */
    paused?: boolean;
  };
}

export interface ResourceCompositionStatus {
  /**
   * One-line summary (the field the original KubePlus writes).
   */
  status?: string;
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
  /**
   * Name of the generated CustomResourceDefinition.
   */
  crd?: string;
  chart?: {
    name?: string;
    version?: string;
    digest?: string;
  };
  /**
   * Fleet progress: instances on the composition's current chart.
   */
  instances?: {
    total?: number;
    upgraded?: number;
    pending?: number;
    failed?: number;
    /**
     * The chart (name-version) the fleet is being moved to.
     */
    chart?: string;
    inFlight?: number;
    /**
     * True when the failure budget is spent and the rollout has stopped.
     */
    halted?: boolean;
    /**
     * Instances pinned to another chart version (annotation kubeplus.dev/pin-chart), left where they are.
     */
    pinned?: number;
  };
  /**
   * The waves of the rollout to the composition's chart: which wave may move now, and why the next waits.
   */
  rollout?: {
    /**
     * The chart (name-version) the rollout moves to.
     */
    chart?: string;
    digest?: string;
    /**
     * Canary: the canary moves; Soaking: the canary is on the chart and must stay Ready until soakUntil; Rolling: wave `wave` moves; Paused: spec.upgrade.paused; Halted: the failure budget is spent; Done: every instance has moved, failed, or is pinned or incompatible.
     */
    phase?: "Canary" | "Soaking" | "Rolling" | "Paused" | "Halted" | "Done";
    /**
     * The wave that may move now (1-based; the canary is wave 1 when there is one).
     */
    wave?: number;
    /**
     * How many waves the rollout has.
     */
    waves?: number;
    /**
     * When every canary instance was first seen Ready on the chart.
     */
    canaryReadyAt?: string;
    /**
     * When the canary's soak ends.
     */
    soakUntil?: string;
    message?: string;
  };
  /**
   * The compatibility gate of the latest chart change: every instance's values checked against the new chart's schema before any instance moves.
   */
  compatibility?: {
    /**
     * The chart (name-version) checked.
     */
    chart?: string;
    digest?: string;
    /**
     * Instances checked.
     */
    checked?: number;
    /**
     * Instances whose values do not fit the chart.
     */
    incompatibleCount?: number;
    /**
     * The instances whose values do not fit (at most 50), each with its problems field by field (at most 10).
     */
    incompatible?: {
      namespace: string;
      name: string;
      problems: {
        /**
         * The field, as kubectl names it (spec.replicas).
         */
        path: string;
        /**
         * invalid: the new schema refuses the value; removed: the new chart has no such field (the value would be dropped).
         */
        kind: "invalid" | "removed";
        detail: string;
      }[];
    }[];
  };
}
