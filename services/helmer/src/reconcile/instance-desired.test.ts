import { describe, expect, it } from "vitest";
import { Labels, type Instance, type ResourceComposition } from "@kubeplus/api";
import { ISOLATION, planInstance } from "./instance-desired.js";

const rc = {
  apiVersion: "workflows.kubeplus/v1alpha1",
  kind: "ResourceComposition",
  metadata: { name: "wp", namespace: "kubeplus" },
  spec: {
    newResource: {
      resource: {
        kind: "WordpressService",
        group: "platformapi.kubeplus",
        version: "v1alpha1",
        plural: "wordpressservices",
      },
      chartURL: "https://charts.example/wp-1.0.0.tgz",
      chartName: "wp",
    },
  },
} as unknown as ResourceComposition;

const instance = {
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "WordpressService",
  metadata: { name: "tenant1", namespace: "kubeplus", uid: "u1" },
  spec: {},
} as unknown as Instance;

interface Peer {
  namespaceSelector?: { matchExpressions?: { key: string; operator: string; values?: string[] }[] };
}

/** The egress rule that opens namespaces other than instances'. */
function otherNamespacesRule(platformNamespace?: string): Peer[] {
  const plan = planInstance(instance, rc, {
    namespace: "tenant1",
    create: true,
    ...(platformNamespace ? { platformNamespace } : {}),
  });
  const egress = plan.isolation.find((o) => o.metadata.name === ISOLATION.Egress) as unknown as {
    spec: { egress: { to?: Peer[]; ports?: unknown[] }[] };
  };
  const rule = egress.spec.egress.find((r) =>
    r.to?.some((p) =>
      p.namespaceSelector?.matchExpressions?.some((e) => e.operator === "DoesNotExist"),
    ),
  );
  expect(rule?.ports).toBeUndefined();
  return rule?.to ?? [];
}

describe("planInstance: the egress NetworkPolicy", () => {
  it("keeps tenants out of the KubePlus namespace (NATS, crd-hook) while other non-instance namespaces stay open", () => {
    expect(otherNamespacesRule("kubeplus-system")).toEqual([
      {
        namespaceSelector: {
          matchExpressions: [
            { key: Labels.OwnerKind, operator: "DoesNotExist" },
            { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kubeplus-system"] },
          ],
        },
      },
    ]);
  });
});

describe("planInstance: the ingress NetworkPolicy", () => {
  const ingressOf = (
    composition: ResourceComposition,
    metricsCollectorCidrs?: string[],
  ): { from: unknown[] }[] => {
    const plan = planInstance(instance, composition, {
      namespace: "tenant1",
      create: true,
      platformNamespace: "kubeplus",
      ...(metricsCollectorCidrs ? { metricsCollectorCidrs } : {}),
    });
    const policy = plan.isolation.find(
      (o) => o.metadata.name === ISOLATION.DenyOtherTenants,
    ) as unknown as { spec: { ingress: { from: unknown[] }[] } };
    return policy.spec.ingress;
  };
  const withAppEndpoints = {
    ...rc,
    spec: {
      ...rc.spec,
      resmonitor: {
        spec: { appEndpoints: { label: "app=web", endpoint: "metrics", metrics: ["requests"] } },
      },
    },
  } as unknown as ResourceComposition;

  it("admits only the tenant's own namespace when the composition scrapes no appEndpoints", () => {
    expect(ingressOf(rc, ["198.19.241.1/32"])).toEqual([{ from: [{ podSelector: {} }] }]);
  });

  it("admits KubePlus's metrics-collector pods, and a collector's addresses outside the cluster, when it scrapes appEndpoints", () => {
    expect(ingressOf(withAppEndpoints, ["198.19.241.1/32"])).toEqual([
      { from: [{ podSelector: {} }] },
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kubeplus" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "metrics-collector" } },
          },
          { ipBlock: { cidr: "198.19.241.1/32" } },
        ],
      },
    ]);
  });
});
