import { createHash } from "node:crypto";
import { Agent, type AgentOptions } from "node:https";
import type { Cluster, KubeConfig } from "@kubernetes/client-node";

type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => unknown;

const part = (v: unknown): string =>
  v === undefined || v === null
    ? ""
    : Buffer.isBuffer(v)
      ? v.toString("base64")
      : JSON.stringify(v);

/**
 * client-node 1.x builds a new https.Agent for every request: a new TLS context (the CA and key parsed again), a new
 * connection and a full handshake each time, on both ends. Under load that was most of the helmer's CPU and much of
 * the apiserver's. This makes the kubeconfig hand out one keep-alive agent per distinct TLS material instead (a
 * rotated client certificate gets a new one; bearer tokens travel in headers and are read per request as before).
 * Proxied clusters keep client-node's own agents.
 */
export function shareAgents(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createAgent: CreateAgent };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    if (!cluster?.server.startsWith("https:") || cluster.proxyUrl)
      return original(cluster, options);
    // A socket timeout belongs to a request, not to the shared agent (it would cut long watches).
    const { timeout: _timeout, ...tls } = options;
    const key = createHash("sha256")
      .update(
        [cluster.server, ...Object.entries(tls).map(([k, v]) => `${k}=${part(v)}`)].join("\n"),
      )
      .digest("hex");
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({ ...tls, keepAlive: true });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}
