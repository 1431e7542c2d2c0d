/**
 * The provider's view of a composition's fleet, from the composition's status (what the helmer counts: upgraded,
 * pending, failed, in flight, halted) and its instances' own status (the chart version each is on, and why one
 * fails). Pure.
 */
import { findCondition, type Condition } from "./columns.js";
import { get, num, str } from "./read.js";

export interface CompositionLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly newResource?: {
      readonly resource?: {
        readonly kind?: string;
        readonly group?: string;
        readonly version?: string;
        readonly plural?: string;
      };
      readonly chartURL?: string;
    };
  };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly chart?: { readonly name?: string; readonly version?: string };
    readonly instances?: {
      readonly total?: number;
      readonly upgraded?: number;
      readonly pending?: number;
      readonly failed?: number;
      readonly chart?: string;
      readonly inFlight?: number;
      readonly halted?: boolean;
      readonly pinned?: number;
    };
    readonly rollout?: {
      readonly phase?: string;
      readonly wave?: number;
      readonly waves?: number;
      readonly message?: string;
    };
    readonly compatibility?: { readonly chart?: string; readonly incompatibleCount?: number };
  } | null;
}

export interface InstanceLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly status?: {
    readonly conditions?: readonly Condition[];
    readonly chart?: { readonly version?: string };
  } | null;
}

export interface FleetSummary {
  readonly name: string;
  readonly kind: string;
  /** The chart version the composition is on (what its instances go to). */
  readonly chartVersion: string;
  readonly ready: string;
  readonly reason: string;
  readonly total: number;
  readonly upgraded: number;
  readonly pending: number;
  readonly failed: number;
  readonly inFlight: number;
  /** The rollout stopped: its failures reached the failure budget; instances not yet upgraded are held. */
  readonly halted: boolean;
  /** Instances pinned to another chart version. */
  readonly pinned: number;
  /** The rollout's phase (Canary, Soaking, Rolling, Paused, Halted, Done), wave and message; "" before any. */
  readonly phase: string;
  readonly wave: number;
  readonly waves: number;
  readonly rolloutMessage: string;
  /** Instances whose values the compatibility gate found not to fit the composition's latest chart. */
  readonly incompatible: number;
}

export function fleetSummary(rc: CompositionLike): FleetSummary {
  const ready = findCondition(rc.status?.conditions, "Ready");
  const count = (field: string): number => num(rc, "status", "instances", field);
  return {
    name: str(rc, "metadata", "name"),
    kind: str(rc, "spec", "newResource", "resource", "kind"),
    chartVersion: str(rc, "status", "chart", "version"),
    ready: str(ready, "status"),
    reason: str(ready, "reason"),
    total: count("total"),
    upgraded: count("upgraded"),
    pending: count("pending"),
    failed: count("failed"),
    inFlight: count("inFlight"),
    halted: get(rc, "status", "instances", "halted") === true,
    pinned: count("pinned"),
    phase: str(rc, "status", "rollout", "phase"),
    wave: num(rc, "status", "rollout", "wave"),
    waves: num(rc, "status", "rollout", "waves"),
    rolloutMessage: str(rc, "status", "rollout", "message"),
    incompatible: num(rc, "status", "compatibility", "incompatibleCount"),
  };
}

/** The rollout in a few words: its phase and wave when the helmer records them, else from the counts. */
export function rolloutText(f: FleetSummary): string {
  if (f.phase === "Done" || (f.phase === "" && !f.halted && f.pending === 0)) return "done";
  if (f.phase === "" || f.halted)
    return f.halted ? `halted: ${String(f.pending)} held` : "rolling out";
  const wave = f.waves > 1 ? ` (wave ${String(f.wave)} of ${String(f.waves)})` : "";
  return `${f.phase.toLowerCase()}${wave}: ${f.rolloutMessage}`;
}

/** How many instances are on each chart version (instances without one yet counted under ""), most first. */
export function chartVersions(
  instances: readonly InstanceLike[],
): { version: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const inst of instances) {
    const v = str(inst, "status", "chart", "version");
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([version, count]) => ({ version, count }))
    .sort((a, b) => b.count - a.count || (a.version < b.version ? -1 : 1));
}

/** Ready=False reasons that mean "on its way" rather than "failing" (the helmer's InstanceReason). */
const IN_PROGRESS = new Set([
  "Installing",
  "Upgrading",
  "Progressing",
  "Recovering",
  "UpgradePending",
  "Deleting",
  "Queued",
  "Preparing",
  "Retrying",
  "CompositionNotReady",
]);

export interface FailingInstance {
  readonly namespace: string;
  readonly name: string;
  readonly reason: string;
  readonly message: string;
}

/**
 * The instances that fail, and why: Stalled (kstatus: only a change helps), or not Ready for a reason that is not
 * a step on the way (a failed install or upgrade, a held upgrade, an isolation refusal...).
 */
export function failingInstances(instances: readonly InstanceLike[]): FailingInstance[] {
  const out: FailingInstance[] = [];
  for (const inst of instances) {
    const why = failure(inst.status?.conditions);
    if (!why) continue;
    out.push({
      namespace: str(inst, "metadata", "namespace"),
      name: str(inst, "metadata", "name"),
      reason: str(why, "reason"),
      message: str(why, "message"),
    });
  }
  return out;
}

/** The condition that says why an instance fails, or undefined when it does not. */
function failure(conditions: readonly Condition[] | undefined): Condition | undefined {
  const stalled = findCondition(conditions, "Stalled");
  if (stalled?.status === "True") return stalled;
  const ready = findCondition(conditions, "Ready");
  if (ready?.status === "False" && !IN_PROGRESS.has(str(ready, "reason"))) return ready;
  return undefined;
}
