import { Labels, MANAGED_BY_VALUE } from "@kubeplus/api";
import { AccessNames, generatedGroups, ownGroups, type ProviderOptions } from "./rules.js";

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
  options: ProviderOptions = {},
): Manifest[] {
  const groups = ownGroups(extraGroups);
  const managedHint = `label ${MANAGED_LABEL}=${MANAGED_BY_VALUE}`;
  const target = callTarget(namespace, options);
  return [
    ...rolePolicy(namespace, extraGroups),
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
        {
          expression: `request.operation == 'DELETE' || !has(object.spec.conversion) || !has(object.spec.conversion.webhook) || !has(object.spec.conversion.webhook.clientConfig) || ${target.allowed("object.spec.conversion.webhook.clientConfig")}`,
          message: `a CRD's conversion webhook must call ${target.what} (spec.conversion.webhook.clientConfig.service)`,
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
        {
          expression: `request.operation == 'DELETE' || !has(object.webhooks) || object.webhooks.all(w, ${target.allowed("w.clientConfig")})`,
          message: `the provider's webhooks must call ${target.what} (webhooks[].clientConfig.service)`,
          reason: "Forbidden",
        },
      ],
    }),
  ];
}

/** Hosts a loopback webhook `url` may name when the administrator allows it (`--allow-webhook-url`). */
const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"];

/**
 * Whom the provider's webhooks and CRD conversions may call: a Service in its own namespace (the apiserver then
 * reaches only what that namespace serves), or, when the administrator allows it, a loopback URL.
 */
function callTarget(
  namespace: string,
  options: ProviderOptions,
): { allowed: (clientConfig: string) => string; what: string } {
  const service = (c: string): string =>
    `(has(${c}.service) && ${c}.service.namespace == '${namespace}')`;
  if (!options.allowWebhookUrl)
    return {
      allowed: service,
      what: `a Service in the namespace ${namespace}, never a url or another namespace's Service`,
    };
  return {
    allowed: (c) =>
      `(${service(c)} || (has(${c}.url) && url(${c}.url).getHostname() in ${celList(LOOPBACK_HOSTS)}))`,
    what: `a Service in the namespace ${namespace} or a loopback url (allowed by --allow-webhook-url)`,
  };
}

/**
 * The labels `provider-kubeconfig create` puts on the roles it makes (managed-by and the identity label of
 * identities.ts): the only ones a cluster role the provider creates may carry.
 */
const ROLE_LABELS = [Labels.ManagedBy, "kubeplus.dev/identity"];

/**
 * Cluster roles the provider writes (the consumers' `kubeplus-saas-consumer`, which `kubectl grantpermission
 * consumer` fills): RBAC's escalation check lets the provider put in any rule it holds itself, and a label may make
 * the role's rules part of another role (aggregation: `rbac.authorization.k8s.io/aggregate-to-view` adds them to
 * every holder of the cluster's `view`). So: no new or changed label, no aggregationRule, and rules only on the
 * generated kinds' groups.
 */
function rolePolicy(namespace: string, extraGroups: readonly string[]): Manifest[] {
  const generated = generatedGroups(extraGroups);
  const labels = "object.metadata.labels";
  const old = "oldObject.metadata.labels";
  return policy(namespace, {
    suffix: "roles",
    resourceRules: [
      {
        apiGroups: ["rbac.authorization.k8s.io"],
        apiVersions: ["*"],
        operations: ["CREATE", "UPDATE"],
        resources: ["clusterroles"],
      },
    ],
    validations: [
      {
        expression: `!has(${labels}) || (request.operation == 'CREATE' ? ${labels}.all(k, k in ${celList(ROLE_LABELS)}) : ${labels}.all(k, has(${old}) && k in ${old} && ${old}[k] == ${labels}[k]))`,
        messageExpression: `'the provider may not add or change labels of cluster role ' + object.metadata.name + ': a label such as rbac.authorization.k8s.io/aggregate-to-view would add its rules to other roles (aggregation)'`,
        reason: "Forbidden",
      },
      {
        expression: "!has(object.aggregationRule)",
        messageExpression: `'the provider may not give cluster role ' + object.metadata.name + ' an aggregationRule: it would gather the rules of other roles'`,
        reason: "Forbidden",
      },
      {
        expression: `!has(object.rules) || object.rules.all(r, (!has(r.nonResourceURLs) || size(r.nonResourceURLs) == 0) && has(r.apiGroups) && r.apiGroups.all(g, g in ${celList(generated)}))`,
        messageExpression: `'the provider may put into cluster role ' + object.metadata.name + ' only rules on the groups ${generated.join(", ")} (the instance kinds consumers are granted), never other groups or non-resource URLs'`,
        reason: "Forbidden",
      },
    ],
  });
}

/** The Pod Security label a managed namespace gets when it has none. */
export const DEFAULT_POD_SECURITY = { [POD_SECURITY_ENFORCE]: "baseline" } as const;
export { POD_SECURITY_ENFORCE };
