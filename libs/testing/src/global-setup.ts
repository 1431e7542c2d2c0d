import type { TestProject } from "vitest/node";
import { defaultRunDir, down, up, type ClusterState } from "@kubeplus/dev";
import { removeLeftovers, stopLeftoverServices } from "./leftovers.js";

declare module "vitest" {
  export interface ProvidedContext {
    cluster: ClusterState;
  }
}

/**
 * Vitest global setup for integration and e2e projects: reuses a healthy control plane (for example the one
 * `make test-int` or `make cluster-up` started) or starts one, once per run, and stops it only if it started it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runDir = defaultRunDir(process.env);
  const report = (line: string): void => {
    process.stderr.write(`[dev] ${line}\n`);
  };
  // One real node (kubelet, containerd, kube-proxy, kube-router) beside the kwok nodes, unless told otherwise.
  const realNodes = Number(process.env.KUBEPLUS_REAL_NODES ?? "1");
  const { state, reused } = await up({
    runDir,
    nodes: 3,
    realNodes,
    maxPods: 110,
    env: process.env,
    report,
  });
  project.provide("cluster", state);
  return async () => {
    // The last file's leftovers (file-setup.ts removes those of the files before it): a reused control plane is left
    // without a test's webhook configurations or services, and none outlives the one this run stops.
    const removed = reused
      ? await removeLeftovers(state).catch((err: unknown) => [`(failed: ${String(err)})`])
      : stopLeftoverServices(state.runDir);
    if (removed.length > 0)
      report(`removed what the test files left behind: ${removed.join(", ")}`);
    if (!reused) await down(runDir, report);
  };
}
