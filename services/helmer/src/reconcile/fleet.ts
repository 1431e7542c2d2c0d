import {
  ConditionType,
  isConditionTrue,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";

/** Fleet rollout limits of a composition (`spec.upgrade`), with their defaults. */
export function upgradeLimits(rc: ResourceComposition): {
  maxInFlight: number;
  failureBudget: number;
} {
  return {
    maxInFlight: rc.spec.upgrade?.maxInFlight ?? 5,
    failureBudget: rc.spec.upgrade?.failureBudget ?? 1,
  };
}

export type FleetDecision = "go" | "wait" | "halted";

/** May one more instance start moving to the new chart? */
export function decideChartUpgrade(state: {
  inFlight: number;
  failed: number;
  maxInFlight: number;
  failureBudget: number;
}): FleetDecision {
  if (state.failed >= state.failureBudget) return "halted";
  return state.inFlight >= state.maxInFlight ? "wait" : "go";
}

export interface FleetProgress {
  readonly chart: string;
  readonly total: number;
  readonly upgraded: number;
  readonly pending: number;
  readonly failed: number;
  readonly inFlight: number;
  readonly halted: boolean;
}

/** True when the instance's last upgrade to this chart failed and its spec has not changed since. */
export function failedOn(instance: Instance, digest: string): boolean {
  const f = instance.status?.failedChart;
  return !!f && f.digest === digest && f.generation === (instance.metadata.generation ?? 0);
}

type Standing = "upgraded" | "failed" | "pending";

/** One instance against the target chart. */
function standingOf(i: Instance, digest: string): Standing {
  const ready = isConditionTrue(i.status?.conditions, ConditionType.Ready);
  const onTarget = i.status?.chart?.digest === digest;
  if (onTarget && ready) return "upgraded";
  return !onTarget && failedOn(i, digest) ? "failed" : "pending";
}

/**
 * Where the fleet stands against the composition's chart, from the instances' own statuses: upgraded (deployed
 * on the chart and Ready), failed (their upgrade to it failed and was rolled back), pending (the rest).
 */
export function fleetProgress(
  rc: ResourceComposition,
  chart: { name: string; version: string; digest: string },
  instances: readonly Instance[],
  inFlight: number,
): FleetProgress {
  const counts: Record<Standing, number> = { upgraded: 0, failed: 0, pending: 0 };
  const live = instances.filter((i) => !i.metadata.deletionTimestamp);
  for (const i of live) counts[standingOf(i, chart.digest)] += 1;
  return {
    chart: `${chart.name}-${chart.version}`,
    total: live.length,
    ...counts,
    inFlight,
    halted: counts.failed >= upgradeLimits(rc).failureBudget,
  };
}
