import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { repoRoot, type ClusterState } from "@kubeplus/dev";

/** kubectl with the control plane's admin kubeconfig. */
export async function kubectl(state: ClusterState, args: string[]): Promise<void> {
  await promisify(execFile)(state.tools.kubectl, ["--kubeconfig", state.kubeconfig, ...args]);
}

/** The platform CRDs (ResourceComposition and friends), applied and Established. */
export async function installPlatformCrds(state: ClusterState): Promise<void> {
  await kubectl(state, [
    "apply",
    "--server-side",
    "-f",
    join(repoRoot, "deploy", "charts", "kubeplus", "crds"),
  ]);
  await kubectl(state, [
    "wait",
    "--for=condition=Established",
    "crd/resourcecompositions.workflows.kubeplus",
  ]);
}
