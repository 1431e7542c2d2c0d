/**
 * The columns `kubectl get` prints for an instance (NAME, READY, REASON, AGE: the CRD's printer columns, READY and
 * REASON from the Ready condition) and kubectl's age format (apimachinery's duration.HumanDuration). Pure.
 */

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface WithConditions {
  readonly metadata?: { readonly name?: string; readonly creationTimestamp?: string };
  readonly status?: { readonly conditions?: readonly Condition[] } | null;
}

export interface InstanceRow {
  readonly name: string;
  /** The Ready condition's status (True, False, Unknown), empty while there is none (kubectl prints nothing). */
  readonly ready: string;
  readonly reason: string;
  /** The Ready condition's message (shown as the row's detail). */
  readonly message: string;
  readonly age: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** One row of `kubectl get <kind>`, as of `now`. */
export function instanceRow(obj: WithConditions, now: Date): InstanceRow {
  const ready = findCondition(obj.status?.conditions ?? undefined, "Ready");
  return {
    name: obj.metadata?.name ?? "",
    ready: ready?.status ?? "",
    reason: ready?.reason ?? "",
    message: ready?.message ?? "",
    age: age(obj.metadata?.creationTimestamp, now),
  };
}

/** kubectl's AGE of a timestamp: `<unknown>` without one. */
export function age(timestamp: string | undefined, now: Date): string {
  if (!timestamp) return "<unknown>";
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return "<unknown>";
  return humanDuration(now.getTime() - then);
}

/** apimachinery's duration.HumanDuration, from milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return withRest(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return withRest(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) return withRest(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) return withRest(years, "y", days % 365, "d");
  return `${years}y`;
}

function withRest(n: number, unit: string, rest: number, restUnit: string): string {
  return rest === 0 ? `${n}${unit}` : `${n}${unit}${rest}${restUnit}`;
}
