import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";

/**
 * The kubeconfig a command acts with, found as kubectl finds it: the path given (-k), else $KUBECONFIG, else
 * ~/.kube/config. A missing file is a clear error, never a silent fall-back to localhost.
 */
export function loadUserKubeconfig(
  path: string | undefined,
  envKubeconfig: string | undefined,
): KubeConfig {
  const candidate =
    path ?? envKubeconfig?.split(":").find((p) => p !== "") ?? join(homedir(), ".kube", "config");
  if (!existsSync(candidate))
    throw new Error(
      path
        ? `kubeconfig ${path} does not exist`
        : `no kubeconfig found (${candidate}): pass -k/--kubeconfig <path> or set KUBECONFIG`,
    );
  const kc = new KubeConfig();
  kc.loadFromFile(candidate);
  if (!kc.getCurrentCluster()) throw new Error(`kubeconfig ${candidate} has no current context`);
  return kc;
}
