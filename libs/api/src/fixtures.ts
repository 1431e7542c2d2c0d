import type { ResourceComposition } from "./index.js";

export interface WordpressCompositionOptions {
  readonly chartURL?: string;
  readonly chartName?: string;
  readonly uid?: string;
  /** Added to the spec (respolicy, resmonitor, isolation, ...). */
  readonly spec?: Partial<ResourceComposition["spec"]>;
  readonly status?: ResourceComposition["status"];
}

/**
 * The walkthrough's composition (`wp` in namespace `kubeplus`, kind WordpressService), typed, for unit tests of pure
 * decisions (integration tests write manifests with @kubeplus/testing's compositionManifest instead).
 */
export function wordpressComposition(o: WordpressCompositionOptions = {}): ResourceComposition {
  return {
    apiVersion: "workflows.kubeplus/v1alpha1",
    kind: "ResourceComposition",
    metadata: { name: "wp", namespace: "kubeplus", ...(o.uid ? { uid: o.uid } : {}) },
    spec: {
      newResource: {
        resource: {
          kind: "WordpressService",
          group: "platformapi.kubeplus",
          version: "v1alpha1",
          plural: "wordpressservices",
        },
        chartURL: o.chartURL ?? "https://charts.example/wordpress-chart-0.0.4.tgz",
        chartName: o.chartName ?? "wordpress-chart",
      },
      ...o.spec,
    },
    ...(o.status ? { status: o.status } : {}),
  };
}

/** The walkthrough's pod policy (`respolicy.spec.policy.podconfig`): what every tenant pod requests and may use. */
export const walkthroughPodconfig = {
  requests: { cpu: "100m", memory: "1Gi" },
  limits: { cpu: "200m", memory: "2Gi" },
} as const;
