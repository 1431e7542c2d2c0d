import type { RenderedObject } from "@kubeplus/charts";
import { podPolicyFor } from "../../policy/pod-policy.js";
import type { Converging, InstanceReconcileDeps } from "./deps.js";

/**
 * One `helm upgrade --install` of the instance's spec on the composition's chart. Helm renders once; its post-render
 * step checks isolation (an IsolationRefusal stops helm before it creates or changes anything) and puts the pod
 * policy on the workloads. Returns the objects applied, or undefined when helm did not show them.
 */
export function runHelm(
  c: Converging,
  deps: Pick<InstanceReconcileDeps, "upgradeInstall" | "isolationProblems">,
): Promise<RenderedObject[] | undefined> {
  const { instance, plan, rc } = c;
  return deps.upgradeInstall(plan, c.chart, instance.spec, {
    policy: podPolicyFor(rc, instance),
    isolationProblems: (rendered) => deps.isolationProblems(rc, rendered, plan.namespace),
  });
}
