import { describe, expect, it } from "vitest";
import {
  buildKubeconfig,
  normalizeServerUrl,
  parseDuration,
  tokenLifetimeProblem,
  withServer,
} from "./kubeconfig.js";
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

describe("tokenLifetimeProblem", () => {
  it("allows up to a year for the provider and 90 days for a consumer, and names the maximum beyond", () => {
    expect(tokenLifetimeProblem("provider", parseDuration("8760h"))).toBeUndefined();
    expect(tokenLifetimeProblem("consumer", parseDuration("90d"))).toBeUndefined();
    expect(tokenLifetimeProblem("consumer", parseDuration("91d"))).toBe(
      "a token of 91 days is too long: the maximum token lifetime for a consumer is 2160h (90 days); ask for that or less, and renew it with provider-kubeconfig extract before it expires",
    );
    expect(tokenLifetimeProblem("provider", parseDuration("87600h"))).toMatch(
      /^a token of 3650 days is too long: the maximum token lifetime for the provider is 8760h \(365 days\)/,
    );
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
    expect(rules.find((r) => r.verbs.includes("bind"))?.resourceNames).toHaveLength(5);
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
