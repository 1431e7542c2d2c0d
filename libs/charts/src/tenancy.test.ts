import { describe, expect, it } from "vitest";
import type { RenderedObject } from "./render.js";
import { lintChartCrds, lintTenancy, type TenancyContext } from "./tenancy.js";

const ctx: TenancyContext = {
  namespace: "tenant-a",
  allowClusterRoles: new Set(["view"]),
  reservedServiceAccounts: new Set(["kubeplus-chart"]),
};
const o = (object: Record<string, unknown>): RenderedObject => ({ object });
const meta = (name: string, namespace?: string): Record<string, unknown> => ({
  name,
  ...(namespace === undefined ? {} : { namespace }),
});
const deployment = (serviceAccountName?: string): RenderedObject =>
  o({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web"),
    spec: {
      template: {
        spec: {
          ...(serviceAccountName === undefined ? {} : { serviceAccountName }),
          containers: [{ name: "web", image: "nginx" }],
        },
      },
    },
  });
const roleBinding = (kind: string, name: string, namespace?: string): RenderedObject =>
  o({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: meta("rb", namespace),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name },
    subjects: [{ kind: "ServiceAccount", name: "app", namespace: "tenant-a" }],
  });
const serviceAccount = (name: string): RenderedObject =>
  o({ apiVersion: "v1", kind: "ServiceAccount", metadata: meta(name) });
const role = (name: string): RenderedObject =>
  o({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: meta(name), rules: [] });
const tokenSecret = (account: string): RenderedObject =>
  o({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: { name: "tok", annotations: { "kubernetes.io/service-account.name": account } },
  });

describe("lintTenancy", () => {
  it.each<[string, RenderedObject[], string[]]>([
    ["objects without a namespace (helm puts them in the release's)", [deployment()], []],
    [
      "an object in the instance's own namespace",
      [o({ apiVersion: "v1", kind: "ConfigMap", metadata: meta("c", "tenant-a") })],
      [],
    ],
    [
      "an object in the KubePlus namespace (namespaceOverride, extraDeploy)",
      [o({ apiVersion: "v1", kind: "ConfigMap", metadata: meta("c", "kubeplus") })],
      ["ConfigMap/c metadata.namespace"],
    ],
    [
      "a RoleBinding into another tenant's namespace",
      [roleBinding("Role", "r", "tenant-b"), role("r")],
      ["RoleBinding/rb metadata.namespace"],
    ],
    ["a RoleBinding to a Role the chart creates", [roleBinding("Role", "r"), role("r")], []],
    [
      "a RoleBinding to a Role the chart does not create",
      [roleBinding("Role", "other")],
      ["RoleBinding/rb roleRef"],
    ],
    ["a RoleBinding to an allowed ClusterRole", [roleBinding("ClusterRole", "view")], []],
    [
      "a RoleBinding to cluster-admin",
      [roleBinding("ClusterRole", "cluster-admin")],
      ["RoleBinding/rb roleRef"],
    ],
    [
      "a RoleBinding to the provider's tenant role",
      [roleBinding("ClusterRole", "kubeplus-saas-provider-tenant")],
      ["RoleBinding/rb roleRef"],
    ],
    ["a pod as the chart's own ServiceAccount", [deployment("app"), serviceAccount("app")], []],
    ["a pod as 'default'", [deployment("default")], []],
    [
      "a pod as a ServiceAccount the chart does not create",
      [deployment("kubeplus-saas-provider")],
      ["Deployment/web spec.template.spec.serviceAccountName"],
    ],
    [
      "a pod as KubePlus's chart identity, even if the chart declares it",
      [deployment("kubeplus-chart"), serviceAccount("kubeplus-chart")],
      ["Deployment/web spec.template.spec.serviceAccountName"],
    ],
    [
      "a token Secret of the chart's own ServiceAccount",
      [tokenSecret("app"), serviceAccount("app")],
      [],
    ],
    [
      "a token Secret of KubePlus's chart identity",
      [tokenSecret("kubeplus-chart")],
      ["Secret/tok metadata.annotations"],
    ],
    ["a token Secret of 'default'", [tokenSecret("default")], ["Secret/tok metadata.annotations"]],
  ])("%s", (_what, objects, paths) => {
    expect(lintTenancy(objects, ctx).map((p) => p.path)).toEqual(paths);
  });

  it("says what to change", () => {
    const [ns] = lintTenancy(
      [o({ apiVersion: "v1", kind: "ConfigMap", metadata: meta("c", "kubeplus") })],
      ctx,
    );
    expect(ns?.message).toBe(
      "is 'kubeplus', outside this instance's namespace 'tenant-a'; a chart's objects live only in their instance's namespace: remove the namespace (for example namespaceOverride, or an object in extraDeploy) from the values or the chart",
    );
    const [binding] = lintTenancy([roleBinding("ClusterRole", "cluster-admin")], ctx);
    expect(binding?.message).toMatch(
      /binds ClusterRole 'cluster-admin', which the composition does not allow \(allowed: view\); .*spec\.isolation\.allowClusterRoles/,
    );
  });
});

describe("lintChartCrds", () => {
  const crd = (group: string, conversion?: Record<string, unknown>): Record<string, unknown> => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `widgets.${group}` },
    spec: { group, ...(conversion ? { conversion } : {}) },
  });
  it.each<[string, Record<string, unknown>[], string[]]>([
    ["a CRD of a declared group", [crd("apps.example.com")], []],
    [
      "a CRD of another group",
      [crd("evil.example.com")],
      ["crds/ document 1 (CustomResourceDefinition/widgets.evil.example.com) spec.group"],
    ],
    [
      "a ConfigMap in crds/",
      [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "kubeplus" } }],
      ["crds/ document 1 (ConfigMap/x)"],
    ],
    [
      "a CRD with a conversion webhook",
      [
        crd("apps.example.com", {
          strategy: "Webhook",
          webhook: { clientConfig: { url: "https://x" } },
        }),
      ],
      ["crds/ document 1 (CustomResourceDefinition/widgets.apps.example.com) spec.conversion"],
    ],
  ])("%s", (_what, docs, paths) => {
    expect(lintChartCrds(docs, new Set(["apps.example.com"])).map((p) => p.path)).toEqual(paths);
  });
});
