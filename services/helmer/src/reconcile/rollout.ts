import type { ResourceComposition } from "@kubeplus/api";

/**
 * The waves of a fleet's move to a new chart (pure): a canary first (the first N instances, or those a selector
 * picks), which must stay Ready on the chart for a soak time, then waves of a size or percentage, each starting when
 * every instance of the waves before it is settled (moved, failed, pinned or incompatible). reconcileFleet decides
 * the open wave and records it in the composition's status.rollout; each instance moves only when its wave is open.
 */

type Upgrade = NonNullable<ResourceComposition["spec"]["upgrade"]>;
export type RolloutStatus = NonNullable<NonNullable<ResourceComposition["status"]>["rollout"]>;
export type RolloutPhase = NonNullable<RolloutStatus["phase"]>;

/** One instance against the rollout's chart. */
export type Standing = "upgraded" | "failed" | "pending" | "pinned" | "incompatible";

export interface Member {
  /** `namespace/name`. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly standing: Standing;
  /** Ready now (for the canary's soak). */
  readonly ready: boolean;
}

export const DEFAULT_SOAK_SECONDS = 300;

/** A wave size as a count of instances: a number, or a percentage of `total` rounded up; undefined: all in one. */
export function waveSizeOf(size: number | string | undefined, total: number): number {
  if (size === undefined) return Math.max(total, 1);
  if (typeof size === "number") return Math.max(Math.floor(size), 1);
  const percent = Number.parseInt(size, 10);
  return Math.max(Math.ceil((total * (Number.isFinite(percent) ? percent : 100)) / 100), 1);
}

const matches = (
  labels: Readonly<Record<string, string>>,
  want: Readonly<Record<string, string | undefined>>,
): boolean => Object.entries(want).every(([k, v]) => labels[k] === v);

/** Whether the rollout is in waves at all (a canary or a wave size): otherwise every instance may go at once. */
export function hasWaves(upgrade: Upgrade | undefined): boolean {
  return hasCanary(upgrade) || upgrade?.waveSize !== undefined;
}

/** Whether the composition's rollout has a canary wave. */
function hasCanary(upgrade: Upgrade | undefined): boolean {
  const canary = upgrade?.canary;
  if (!canary) return false;
  return canary.selector?.matchLabels !== undefined || (canary.count ?? 0) > 0;
}

/**
 * The instances' keys wave by wave: the canary first (when there is one), then the others in waves of waveSize,
 * each in namespace/name order (every reconcile, in any replica, orders them the same way). An empty canary (no
 * instance matches) is still a wave, so that wave numbers do not shift.
 */
export function wavesOf(members: readonly Member[], upgrade: Upgrade | undefined): string[][] {
  const sorted = [...members].sort((a, b) => a.key.localeCompare(b.key));
  const canarySpec = upgrade?.canary;
  let canary: Member[] = [];
  let rest = sorted;
  if (hasCanary(upgrade)) {
    const selector = canarySpec?.selector?.matchLabels;
    canary = selector
      ? sorted.filter((m) => matches(m.labels, selector))
      : sorted.slice(0, canarySpec?.count ?? 0);
    const inCanary = new Set(canary.map((m) => m.key));
    rest = sorted.filter((m) => !inCanary.has(m.key));
  }
  const size = waveSizeOf(upgrade?.waveSize, rest.length);
  const waves: string[][] = hasCanary(upgrade) ? [canary.map((m) => m.key)] : [];
  for (let i = 0; i < rest.length; i += size) waves.push(rest.slice(i, i + size).map((m) => m.key));
  if (waves.length === 0) waves.push([]);
  return waves;
}

export interface RolloutInput {
  readonly chart: string;
  readonly digest: string;
  readonly members: readonly Member[];
  readonly upgrade: Upgrade | undefined;
  /** The failure budget is spent. */
  readonly halted: boolean;
  /** What the composition's status recorded for this rollout (same digest), if anything. */
  readonly recorded?: RolloutStatus;
  readonly now: Date;
}

export interface RolloutDecision {
  readonly status: RolloutStatus;
  /** Look again then (the end of the canary's soak). */
  readonly recheckAfterMs?: number;
}

const isPending = (m: Member | undefined): boolean => m?.standing === "pending";

/**
 * The canary's soak: started when every canary instance is first seen upgraded and Ready; restarted when one is not
 * Ready any more. Undefined when the canary has not all moved yet.
 */
function soak(
  canary: readonly Member[],
  input: RolloutInput,
): { readyAt?: string; until?: string; remainingMs: number } {
  const seconds = input.upgrade?.canary?.soakSeconds ?? DEFAULT_SOAK_SECONDS;
  const allReady = canary.every((m) => m.standing !== "upgraded" || m.ready);
  if (!allReady) return { remainingMs: Number.POSITIVE_INFINITY };
  const readyAt = input.recorded?.canaryReadyAt ?? input.now.toISOString();
  const until = new Date(Date.parse(readyAt) + seconds * 1000);
  return {
    readyAt,
    until: until.toISOString(),
    remainingMs: Math.max(until.getTime() - input.now.getTime(), 0),
  };
}

/** Where the waves stand before pause and halt: the open wave, Canary/Soaking/Rolling, the canary's soak. */
function openWave(
  input: RolloutInput,
  waves: readonly string[][],
  firstPending: number,
): { open: number; phase: RolloutPhase; extra: Partial<RolloutStatus>; recheckAfterMs?: number } {
  const byKey = new Map(input.members.map((m) => [m.key, m]));
  const canary = hasCanary(input.upgrade)
    ? (waves[0] ?? []).flatMap((k) => byKey.get(k) ?? [])
    : [];
  // No canary (none asked, or no instance matches it): nothing to soak.
  if (canary.length === 0) return { open: firstPending, phase: "Rolling", extra: {} };
  if (firstPending === 0) return { open: 0, phase: "Canary", extra: {} };
  const s = soak(canary, input);
  const extra = {
    ...(s.readyAt ? { canaryReadyAt: s.readyAt } : {}),
    ...(s.until ? { soakUntil: s.until } : {}),
  };
  if (s.remainingMs === 0) return { open: firstPending, phase: "Rolling", extra };
  const recheck = Number.isFinite(s.remainingMs) ? { recheckAfterMs: s.remainingMs } : {};
  return { open: 0, phase: "Soaking", extra, ...recheck };
}

/** The open wave and phase of the rollout, from the instances' standings and the recorded canary time. */
export function decideRollout(input: RolloutInput): RolloutDecision {
  const byKey = new Map(input.members.map((m) => [m.key, m]));
  const waves = wavesOf(input.members, input.upgrade);
  const firstPending = waves.findIndex((w) => w.some((k) => isPending(byKey.get(k))));
  const base = { chart: input.chart, digest: input.digest, waves: waves.length };
  if (firstPending === -1)
    return {
      status: { ...base, phase: "Done", wave: waves.length, message: "every instance has moved" },
    };
  const o = openWave(input, waves, firstPending);
  let phase = o.phase;
  if (input.upgrade?.paused === true) phase = "Paused";
  if (input.halted) phase = "Halted";
  const status: RolloutStatus = {
    ...base,
    ...o.extra,
    phase,
    wave: o.open + 1,
    message: rolloutMessage(phase, o.open + 1, waves.length, o.extra.soakUntil),
  };
  return o.recheckAfterMs === undefined ? { status } : { status, recheckAfterMs: o.recheckAfterMs };
}

function rolloutMessage(
  phase: RolloutPhase,
  wave: number,
  waves: number,
  soakUntil: string | undefined,
): string {
  switch (phase) {
    case "Canary":
      return `the canary (wave 1 of ${String(waves)}) moves first`;
    case "Soaking":
      return soakUntil
        ? `the canary is on the chart; the other waves wait until ${soakUntil} (it must stay Ready)`
        : "the canary has moved; the other waves wait until every canary instance is Ready";
    case "Paused":
      return `paused at wave ${String(wave)} of ${String(waves)} (spec.upgrade.paused); upgrades under way finish`;
    case "Halted":
      return `halted at wave ${String(wave)} of ${String(waves)}: the failure budget is spent`;
    default:
      return `wave ${String(wave)} of ${String(waves)} moves`;
  }
}

/** Wave `index` (0-based) is open under the recorded rollout: reached, and no canary soaking. */
const isOpen = (index: number, recorded: RolloutStatus | undefined): boolean =>
  recorded !== undefined && recorded.phase !== "Soaking" && index <= (recorded.wave ?? 1) - 1;

/** What one instance may do under the recorded rollout: move, or wait (and why). */
export type WaveVerdict = { readonly go: true } | { readonly go: false; readonly why: string };

/**
 * Whether `key` may start moving under the composition's recorded rollout for `digest` (an instance the rollout has
 * not seen, or a rollout recorded for another chart, waits for the next count). Halted and paused rollouts are the
 * caller's (decideChartUpgrade, spec.upgrade.paused); this judges the waves only.
 */
export function waveVerdict(o: {
  key: string;
  members: readonly Member[];
  upgrade: Upgrade | undefined;
  recorded: RolloutStatus | undefined;
  digest: string;
}): WaveVerdict {
  const waves = wavesOf(o.members, o.upgrade);
  const index = waves.findIndex((w) => w.includes(o.key));
  if (waves.length <= 1 || index === 0) return { go: true };
  const recorded = o.recorded?.digest === o.digest ? o.recorded : undefined;
  if (index !== -1 && isOpen(index, recorded)) return { go: true };
  const mine = index === -1 ? "a wave not counted yet" : `wave ${String(index + 1)}`;
  const why = recorded?.message ?? "the rollout's waves are being counted";
  return { go: false, why: `in ${mine} of ${String(waves.length)}: ${why}` };
}
