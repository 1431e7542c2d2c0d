import { describe, expect, it } from "vitest";
import { buildKubeconfig, normalizeServerUrl, parseDuration, withServer } from "./kubeconfig.js";
import { providerPolicies } from "./policies.js";
import { providerClusterRules } from "./rules.js";

describe("buildKubeconfig", () => {
  const config = buildKubeconfig({
    server: "10.0.0.1:6443",
    caPem: "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n",
    token: "t0ken",
    user: "kubeplus-saas-provider",
    clusterName: "prod",
    namespace: "kubeplus",
  });

  it("embeds the CA, sets the namespace, and never skips TLS verification", () => {
    const cluster = config.clusters[0]?.cluster;
    expect(cluster?.server).toBe("https://10.0.0.1:6443");
    expect(
      Buffer.from(cluster?.["certificate-authority-data"] ?? "", "base64").toString(),
    ).toContain("BEGIN CERTIFICATE");
    expect(JSON.stringify(config)).not.toContain("insecure-skip-tls-verify");
    expect(config.contexts[0]?.context).toEqual({
      cluster: "prod",
      user: "kubeplus-saas-provider",
      namespace: "kubeplus",
    });
    expect(config["current-context"]).toBe("prod");
  });

  it("points at another server on request", () => {
    expect(withServer(config, "https://api.example.com/").clusters[0]?.cluster.server).toBe(
      "https://api.example.com",
    );
    expect(normalizeServerUrl("http://plain:80")).toBe("http://plain:80");
  });
});

describe("parseDuration", () => {
  it("reads hours, days, minutes and seconds, and refuses nonsense or too short", () => {
    expect(parseDuration("8760h")).toBe(8760 * 3600);
    expect(parseDuration("90d")).toBe(90 * 86_400);
    expect(parseDuration("3600")).toBe(3600);
    expect(() => parseDuration("1y")).toThrow(/invalid duration/);
    expect(() => parseDuration("5m")).toThrow(/too short/);
  });
});

describe("the provider's fences", () => {
  it("grants no read of namespaced objects cluster-wide, no impersonation, no CSR approval, no cluster bindings", () => {
    const rules = providerClusterRules();
    const text = JSON.stringify(rules);
    for (const word of [
      "impersonate",
      "approve",
      "clusterrolebindings",
      "secrets",
      "pods",
      "escalate",
    ])
      expect(text).not.toContain(word);
    expect(rules.find((r) => r.verbs.includes("bind"))?.resourceNames).toHaveLength(3);
  });

  it("binds every policy it defines, and matches the provider's namespace identities only", () => {
    const manifests = providerPolicies("kp", ["example.com"]);
    const policies = manifests.filter((m) => m.kind === "ValidatingAdmissionPolicy");
    const bindings = manifests.filter((m) => m.kind === "ValidatingAdmissionPolicyBinding");
    expect(bindings.map((b) => (b.spec as { policyName: string }).policyName).sort()).toEqual(
      policies.map((p) => p.metadata.name).sort(),
    );
    for (const p of policies)
      expect(JSON.stringify(p)).toContain("'system:serviceaccounts:kp' in request.userInfo.groups");
    expect(JSON.stringify(policies)).toContain("'example.com'");
  });
});
