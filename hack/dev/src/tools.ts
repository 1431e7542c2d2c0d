import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { ToolPaths } from "./components.js";
import { repoRoot } from "./paths.js";

const ENV_KEYS: Record<keyof ToolPaths, string> = {
  etcd: "ETCD_BIN",
  kubeApiServer: "KUBE_APISERVER_BIN",
  kubeControllerManager: "KUBE_CONTROLLER_MANAGER_BIN",
  kubeScheduler: "KUBE_SCHEDULER_BIN",
  kubectl: "KUBECTL_BIN",
  kwok: "KWOK_BIN",
  helm: "HELM_BIN",
  natsServer: "NATS_SERVER_BIN",
  registry: "REGISTRY_BIN",
  prometheus: "PROMETHEUS_BIN",
  nodeOldest: "NODE_OLDEST_BIN",
  nodeLts: "NODE_LTS_BIN",
  kubelet: "KUBELET_BIN",
  kubeProxy: "KUBE_PROXY_BIN",
  containerd: "CONTAINERD_BIN",
  containerdShim: "CONTAINERD_SHIM_RUNC_V2_BIN",
  ctr: "CTR_BIN",
  coredns: "COREDNS_BIN",
  kubeRouter: "KUBE_ROUTER_BIN",
};

/** Parses the KEY=path lines that ensure-tools.sh --env prints. */
export function parseToolEnv(text: string): ToolPaths {
  const values = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const entries = Object.entries(ENV_KEYS).map(([key, envKey]) => {
    const value = values.get(envKey);
    if (!value) throw new Error(`ensure-tools.sh did not report ${envKey}`);
    return [key, value] as const;
  });
  return Object.fromEntries(entries) as unknown as ToolPaths;
}

/**
 * Makes sure every pinned binary exists (building what is missing, with progress on stderr) and returns their
 * paths. Honors the *_BIN overrides documented in hack/tools/ensure-tools.sh.
 */
export function ensureTools(env: NodeJS.ProcessEnv): ToolPaths {
  const script = join(repoRoot, "hack", "tools", "ensure-tools.sh");
  const result = spawnSync(script, ["--env"], {
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (result.status !== 0) {
    throw new Error(
      `the pinned tools are not available (${script} exited ${result.status ?? "?"})`,
    );
  }
  return parseToolEnv(result.stdout);
}

/** The names of the environment variables a shell or a test uses to find each tool. */
export function toolEnvironment(tools: ToolPaths): Record<string, string> {
  return Object.fromEntries(
    Object.entries(ENV_KEYS).map(([key, envKey]) => [envKey, tools[key as keyof ToolPaths]]),
  );
}
