import { Labels, MANAGED_BY_VALUE } from "@kubeplus/api";
import { AccessNames, ownGroups } from "./rules.js";

/** A Kubernetes object as JSON, ready to apply. */
export interface Manifest extends Record<string, unknown> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

const POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce";
/** Pod Security levels a provider may give a namespace: neither lets a pod reach the node (hostPath, privileged). */
export const ALLOWED_POD_SECURITY = ["baseline", "restricted"] as const;

const MANAGED_LABEL = Labels.ManagedBy;

/** CEL: true when `obj` (a namespace) carries the managed-by label. */
function managed(obj: string): string {
  return `(${obj} != null && has(${obj}.metadata.labels) && '${MANAGED_LABEL}' in ${obj}.metadata.labels && ${obj}.metadata.labels['${MANAGED_LABEL}'] == '${MANAGED_BY_VALUE}')`;
}

function celList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v}'`).join(", ")}]`;
}

const WRITE = ["CREATE", "UPDATE", "DELETE"];
/** The object a request is about: the old one for DELETE, the new one otherwise. */
const SUBJECT = "(request.operation == 'DELETE' ? oldObject : object)";

interface Validation {
  expression: string;
  message?: string;
  messageExpression?: string;
  reason: "Forbidden";
}

interface PolicyParts {
  readonly suffix: string;
  readonly resourceRules: Record<string, unknown>[];
  readonly validations: Validation[];
}

function policy(namespace: string, parts: PolicyParts): Manifest[] {
  const name = `${AccessNames.PolicyPrefix}-${parts.suffix}`;
  const labels = { [Labels.ManagedBy]: MANAGED_BY_VALUE, "app.kubernetes.io/component": "access" };
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name, labels },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: parts.resourceRules },
        // Every identity of the provider's namespace: the provider and anything it could mint a token for there.
        matchConditions: [
          {
            name: "provider-namespace-identity",
            expression: `'system:serviceaccounts:${namespace}' in request.userInfo.groups`,
          },
        ],
        validations: parts.validations,
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name, labels },
      spec: { policyName: name, validationActions: ["Deny"] },
    },
  ];
}

/**
 * The admission policies that turn the provider's cluster-wide RBAC verbs into "only what KubePlus manages".
 * RBAC cannot say "namespaces with this label" or "CRDs of this group"; ValidatingAdmissionPolicies (built into
 * Kubernetes since 1.30, no webhook to keep running) can, and the apiserver itself enforces them.
 */
export function providerPolicies(
  namespace: string,
  extraGroups: readonly string[] = [],
): Manifest[] {
  const groups = ownGroups(extraGroups);
  const managedHint = `label ${MANAGED_LABEL}=${MANAGED_BY_VALUE}`;
  return [
    ...policy(namespace, {
      suffix: "namespaces",
      resourceRules: [
        { apiGroups: [""], apiVersions: ["v1"], operations: WRITE, resources: ["namespaces"] },
      ],
      validations: [
        {
          expression: `request.operation == 'CREATE' || ${managed("oldObject")}`,
          message: `the provider may not change or delete a namespace that is not managed by KubePlus (no ${managedHint})`,
          messageExpression: `'namespace ' + oldObject.metadata.name + ' is not managed by KubePlus (no ${managedHint}): the provider may not change or delete it'`,
          reason: "Forbidden",
        },
        {
          expression: `request.operation == 'DELETE' || ${managed("object")}`,
          message: `a namespace the provider creates or changes must carry the ${managedHint}`,
          reason: "Forbidden",
        },
        {
          expression: `request.operation == 'DELETE' || (has(object.metadata.labels) && '${POD_SECURITY_ENFORCE}' in object.metadata.labels && object.metadata.labels['${POD_SECURITY_ENFORCE}'] in ${celList(ALLOWED_POD_SECURITY)})`,
          message: `a namespace the provider creates or changes must enforce Pod Security ${ALLOWED_POD_SECURITY.join(" or ")} (label ${POD_SECURITY_ENFORCE})`,
          reason: "Forbidden",
        },
      ],
    }),
    ...policy(namespace, {
      suffix: "managed-namespaces",
      resourceRules: [
        {
          apiGroups: ["*"],
          apiVersions: ["*"],
          operations: WRITE,
          resources: ["*/*"],
          scope: "Namespaced",
        },
      ],
      validations: [
        {
          expression: managed("namespaceObject"),
          message: `the provider may write only in namespaces managed by KubePlus (${managedHint})`,
          messageExpression: `'namespace ' + request.namespace + ' is not managed by KubePlus (no ${managedHint}): the provider may write only in namespaces it manages'`,
          reason: "Forbidden",
        },
      ],
    }),
    ...policy(namespace, {
      suffix: "crds",
      resourceRules: [
        {
          apiGroups: ["apiextensions.k8s.io"],
          apiVersions: ["*"],
          operations: WRITE,
          resources: ["customresourcedefinitions"],
        },
      ],
      validations: [
        {
          expression: `${SUBJECT}.spec.group in ${celList(groups)}`,
          message: `the provider may register CRDs only in the groups ${groups.join(", ")}`,
          messageExpression: `'the provider may register CRDs only in the groups ${groups.join(", ")}; ' + ${SUBJECT}.spec.group + ' is not one (the cluster administrator can add it: provider-kubeconfig create --crd-group <group>)'`,
          reason: "Forbidden",
        },
      ],
    }),
    ...policy(namespace, {
      suffix: "webhooks",
      resourceRules: [
        {
          apiGroups: ["admissionregistration.k8s.io"],
          apiVersions: ["*"],
          operations: WRITE,
          resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
        },
      ],
      validations: [
        {
          expression: `${SUBJECT}.metadata.name.startsWith('kubeplus')`,
          message: "the provider may manage only webhook configurations named kubeplus*",
          reason: "Forbidden",
        },
        {
          expression: `request.operation == 'DELETE' || !has(object.webhooks) || object.webhooks.all(w, !has(w.rules) || w.rules.all(r, r.apiGroups.all(g, g in ${celList(groups)})))`,
          message: `the provider's webhooks may intercept only the groups ${groups.join(", ")}`,
          reason: "Forbidden",
        },
      ],
    }),
  ];
}

/** The Pod Security label a managed namespace gets when it has none. */
export const DEFAULT_POD_SECURITY = { [POD_SECURITY_ENFORCE]: "baseline" } as const;
export { POD_SECURITY_ENFORCE };
