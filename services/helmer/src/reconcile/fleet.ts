import {
  Annotations,
  ConditionType,
  isConditionTrue,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";
import type { Member, Standing } from "./rollout.js";

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

/**
 * What an instance whose chart changed may do: go (a slot is taken), wait (for a slot), halted (the failure budget
 * is spent), incompatible (the gate listed it), pinned (its annotation holds it), paused (spec.upgrade.paused), wave
 * (its wave is not open yet).
 */
export type FleetDecision =
  "go" | "wait" | "halted" | "incompatible" | "pinned" | "paused" | "wave";

/** An instance's annotation that keeps it on a chart version: it does not move while the composition's differs. */
export const PIN_ANNOTATION = Annotations.PinChart;

/** The version the instance is pinned to, when it is pinned away from `version` (the composition's chart). */
export function pinnedAway(instance: Instance, version: string): string | undefined {
  const pin = instance.metadata.annotations?.[PIN_ANNOTATION]?.trim();
  return pin && pin !== version ? pin : undefined;
}

type Problems = NonNullable<
  NonNullable<NonNullable<ResourceComposition["status"]>["compatibility"]>["incompatible"]
>[number]["problems"];

/**
 * The problems the composition's compatibility gate found with this instance's values against the chart `digest`,
 * or undefined when it found none (or checked another chart).
 */
export function incompatibility(
  rc: ResourceComposition | undefined,
  instance: Instance,
  digest: string,
): Problems | undefined {
  const gate = rc?.status?.compatibility;
  if (gate?.digest !== digest) return undefined;
  const found = gate.incompatible?.find(
    (i) => i.namespace === instance.metadata.namespace && i.name === instance.metadata.name,
  );
  return found?.problems;
}

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
  readonly pinned: number;
  readonly inFlight: number;
  readonly halted: boolean;
}

/** True when the instance's last upgrade to this chart failed and its spec has not changed since. */
export function failedOn(instance: Instance, digest: string): boolean {
  const f = instance.status?.failedChart;
  return !!f && f.digest === digest && f.generation === (instance.metadata.generation ?? 0);
}

/** One instance against the target chart (the composition's gate and the instance's pin included). */
export function standingOf(
  rc: ResourceComposition,
  i: Instance,
  chart: { version: string; digest: string },
): Standing {
  const ready = isConditionTrue(i.status?.conditions, ConditionType.Ready);
  const onTarget = i.status?.chart?.digest === chart.digest;
  if (onTarget && ready) return "upgraded";
  if (onTarget) return "pending";
  if (failedOn(i, chart.digest)) return "failed";
  if (pinnedAway(i, chart.version)) return "pinned";
  return incompatibility(rc, i, chart.digest) ? "incompatible" : "pending";
}

/** The live instances as the rollout's waves see them. */
export function membersOf(
  rc: ResourceComposition,
  chart: { version: string; digest: string },
  instances: readonly Instance[],
): Member[] {
  return instances
    .filter((i) => !i.metadata.deletionTimestamp)
    .map((i) => ({
      key: `${i.metadata.namespace ?? ""}/${i.metadata.name ?? ""}`,
      labels: i.metadata.labels ?? {},
      standing: standingOf(rc, i, chart),
      ready: isConditionTrue(i.status?.conditions, ConditionType.Ready),
    }));
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
  const counts: Record<Standing, number> = {
    upgraded: 0,
    failed: 0,
    pending: 0,
    pinned: 0,
    incompatible: 0,
  };
  const live = instances.filter((i) => !i.metadata.deletionTimestamp);
  for (const i of live) counts[standingOf(rc, i, chart)] += 1;
  // Incompatible instances wait for their values to change: counted as pending, listed in status.compatibility.
  return {
    chart: `${chart.name}-${chart.version}`,
    total: live.length,
    upgraded: counts.upgraded,
    pending: counts.pending + counts.incompatible,
    failed: counts.failed,
    pinned: counts.pinned,
    inFlight,
    halted: counts.failed >= upgradeLimits(rc).failureBudget,
  };
}
