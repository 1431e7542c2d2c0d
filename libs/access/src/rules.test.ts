import { describe, expect, it } from "vitest";
import { providerPolicies } from "./policies.js";
import { consumerInstanceRules, providerClusterRules } from "./rules.js";

const resourcesOf = (rules: ReturnType<typeof providerClusterRules>): string[] =>
  rules.flatMap((r) => r.resources ?? []);

describe("kubelet access", () => {
  it("grants nodes/metrics and nodes/stats, and nodes/proxy only on the explicit opt-in", () => {
    expect(resourcesOf(providerClusterRules())).toEqual(
      expect.arrayContaining(["nodes/metrics", "nodes/stats"]),
    );
    expect(resourcesOf(providerClusterRules())).not.toContain("nodes/proxy");
    expect(resourcesOf(providerClusterRules([], { kubeletProxy: true }))).toContain("nodes/proxy");
  });
});

describe("consumer rules", () => {
  it("grant the instance kinds but never their status", () => {
    const rules = consumerInstanceRules(["shops", "blogs", "shops"], "platformapi.kubeplus");
    expect(rules).toEqual([
      {
        apiGroups: ["platformapi.kubeplus"],
        resources: ["blogs", "shops"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      },
    ]);
  });
});

interface Policy {
  metadata: { name: string };
  spec: { validations: { expression: string }[] };
}

function policyNamed(manifests: ReturnType<typeof providerPolicies>, suffix: string): Policy {
  const found = manifests.find(
    (m) =>
      m.kind === "ValidatingAdmissionPolicy" &&
      m.metadata.name === `kubeplus-saas-provider-${suffix}`,
  );
  if (!found) throw new Error(`no policy ${suffix}`);
  return found as unknown as Policy;
}

describe("the provider's policies", () => {
  it("fence the cluster roles it writes: labels, aggregationRule, and rules of the generated groups only", () => {
    const roles = policyNamed(providerPolicies("kp", ["example.com"]), "roles");
    const text = roles.spec.validations.map((v) => v.expression).join("\n");
    expect(text).toContain("aggregationRule");
    expect(text).toContain("oldObject.metadata.labels");
    expect(text).toContain("['example.com', 'platformapi.kubeplus']");
    expect(text).not.toContain("'workflows.kubeplus'");
  });

  it("make webhooks and CRD conversions call a Service of the provider's namespace, a loopback url only when allowed", () => {
    for (const suffix of ["webhooks", "crds"]) {
      const strict = JSON.stringify(policyNamed(providerPolicies("kp"), suffix));
      expect(strict).toContain(".service.namespace == 'kp'");
      expect(strict).not.toContain("getHostname");
      const loose = JSON.stringify(
        policyNamed(providerPolicies("kp", [], { allowWebhookUrl: true }), suffix),
      );
      expect(loose).toContain("getHostname() in ['127.0.0.1', 'localhost', '::1']");
    }
  });
});
