import { PLATFORM_GROUP } from "@kubeplus/api";

/** Names users see in kubectl errors: `admission webhook "platform-as-code.crd-binding.v1" denied the request`. */
export const VALIDATING_WEBHOOK = "platform-as-code.crd-binding.v1";
export const MUTATING_WEBHOOK = "accountidentity.crd-binding.v1";
/** The webhook configurations' name unless WEBHOOK_CONFIGURATION_NAME says otherwise (the chart's). */
export const WEBHOOK_CONFIGURATION = "kubeplus-crd-hook";

/** How the apiserver reaches crd-hook: a Service in the cluster, or a URL (local development). */
export type ClientTarget =
  | {
      readonly service: {
        readonly namespace: string;
        readonly name: string;
        readonly port: number;
      };
    }
  | { readonly url: string };

export interface WebhookOptions {
  /** Name of both configurations (WEBHOOK_CONFIGURATION unless configured). */
  readonly name?: string;
  readonly target: ClientTarget;
  readonly caBundle: string;
  /** Generated API groups (from the compositions in the cluster), besides workflows.kubeplus. */
  readonly generatedGroups: readonly string[];
  readonly timeoutSeconds: number;
}

/** Never intercept objects in these namespaces: an outage of ours must not block the cluster's own machinery. */
export const EXCLUDED_NAMESPACES = ["kube-system", "kube-node-lease"];

function clientConfig(options: WebhookOptions, path: string): Record<string, unknown> {
  const caBundle = Buffer.from(options.caBundle).toString("base64");
  if ("url" in options.target) return { url: `${options.target.url}${path}`, caBundle };
  return { service: { ...options.target.service, path }, caBundle };
}

function common(options: WebhookOptions): Record<string, unknown> {
  return {
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    timeoutSeconds: options.timeoutSeconds,
    matchPolicy: "Equivalent",
    namespaceSelector: {
      matchExpressions: [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: EXCLUDED_NAMESPACES },
      ],
    },
  };
}

/** The API groups crd-hook intercepts: its own and the generated ones, never every group in the cluster. */
export function interceptedGroups(generated: readonly string[]): string[] {
  return [...new Set([PLATFORM_GROUP, "platformapi.kubeplus", ...generated])].sort();
}

/**
 * The validating and mutating webhook configurations. Both use failurePolicy Fail: they cover only KubePlus's own
 * groups, so an outage blocks KubePlus objects and nothing else, and an object admitted without checks (or without
 * its creator recorded) would be worse than a retry. Subresources (status) are not intercepted.
 */
export function buildWebhookConfigurations(options: WebhookOptions): {
  validating: Record<string, unknown>;
  mutating: Record<string, unknown>;
} {
  const groups = interceptedGroups(options.generatedGroups);
  const rules = [
    {
      apiGroups: groups,
      apiVersions: ["*"],
      operations: ["CREATE", "UPDATE"],
      resources: ["*"],
      scope: "Namespaced",
    },
  ];
  const metadata = {
    name: options.name ?? WEBHOOK_CONFIGURATION,
    labels: {
      "app.kubernetes.io/managed-by": "kubeplus",
      "app.kubernetes.io/component": "crd-hook",
    },
  };
  return {
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata,
      webhooks: [
        {
          name: VALIDATING_WEBHOOK,
          clientConfig: clientConfig(options, "/validate"),
          rules: [
            ...rules,
            // Deleting a composition is checked too (refused while it has instances, unless cascading).
            {
              apiGroups: [PLATFORM_GROUP],
              apiVersions: ["*"],
              operations: ["DELETE"],
              resources: ["resourcecompositions"],
              scope: "Namespaced",
            },
          ],
          failurePolicy: "Fail",
          ...common(options),
        },
      ],
    },
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata,
      webhooks: [
        {
          name: MUTATING_WEBHOOK,
          clientConfig: clientConfig(options, "/mutate"),
          rules,
          failurePolicy: "Fail",
          reinvocationPolicy: "Never",
          ...common(options),
        },
      ],
    },
  };
}
