import { describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { shareAgents } from "./agents.js";

function kubeconfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, caData: Buffer.from("not a real CA").toString("base64") }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

interface WithAgent {
  createAgent(cluster: unknown, options: Record<string, unknown>): unknown;
}

describe("shareAgents", () => {
  it("hands out one keep-alive agent per TLS material, whatever the request's timeout", () => {
    const kc = shareAgents(kubeconfig("https://127.0.0.1:6443"));
    const create = (kc as unknown as WithAgent).createAgent.bind(kc);
    const cluster = kc.getCurrentCluster();
    const a = create(cluster, { ca: Buffer.from("ca"), timeout: 5_000 }) as { keepAlive: boolean };
    const b = create(cluster, { ca: Buffer.from("ca") });
    const other = create(cluster, { ca: Buffer.from("ca"), key: Buffer.from("rotated key") });
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    expect(a.keepAlive).toBe(true);
  });

  it("leaves plain-HTTP clusters to client-node", () => {
    const kc = kubeconfig("http://127.0.0.1:8080");
    kc.clusters[0] = { ...kc.clusters[0]!, skipTLSVerify: true };
    const shared = shareAgents(kc);
    const create = (shared as unknown as WithAgent).createAgent.bind(shared);
    expect(create(shared.getCurrentCluster(), {})).not.toBe(create(shared.getCurrentCluster(), {}));
  });
});
