/** A standard Kubernetes condition (metav1.Condition). */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export const ConditionType = {
  Ready: "Ready",
  Reconciling: "Reconciling",
  Stalled: "Stalled",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/**
 * Returns the conditions with `next` set: the transition time changes only when the status does (so repeated
 * reconciles do not churn), other conditions are kept in order.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, "lastTransitionTime">,
  now: Date = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const lastTransitionTime =
    previous?.status === next.status ? previous.lastTransitionTime : now.toISOString();
  const merged: Condition = { ...next, lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

/** The condition of this type, of any object's status (ours, a Deployment's, a Node's...). */
export function findCondition<C extends { readonly type?: string }>(
  conditions: readonly C[] | undefined,
  type: string,
): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Whether the condition of this type is there and True. */
export function isConditionTrue(
  conditions: readonly { readonly type: string; readonly status?: string }[] | undefined,
  type: string,
): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * What one reconcile concluded, in kstatus terms: Current (Ready), InProgress (Reconciling: it will get there by
 * itself) or Stalled (only a change of the object, or of what it depends on, helps).
 */
export interface Verdict {
  readonly standing: "Current" | "InProgress" | "Stalled";
  readonly reason: string;
  readonly message: string;
}

/**
 * The conditions of one object as one reconcile decides them (after kro's conditions marker): every condition set
 * through it carries the generation the reconcile acted on and keeps its transition time while its status does not
 * change, and Ready, Reconciling and Stalled always agree with one Verdict.
 */
export class ConditionSet {
  private list: Condition[];
  private readonly generation: number;
  private readonly now: Date;

  constructor(existing: readonly Condition[] | undefined, generation: number, now: Date) {
    this.list = [...(existing ?? [])];
    this.generation = generation;
    this.now = now;
  }

  get(type: string): Condition | undefined {
    return findCondition(this.list, type);
  }

  set(type: string, status: Condition["status"], reason: string, message: string): this {
    const next = { type, status, reason, message, observedGeneration: this.generation };
    this.list = setCondition(this.list, next, this.now);
    return this;
  }

  /**
   * Ready, Reconciling and Stalled from one verdict. With `keepReady`, a Ready condition already decided for this
   * generation stays as it is (the object still serves this very spec while something else moves, such as a new
   * chart); the other two still say what is going on.
   */
  judge(verdict: Verdict, options: { keepReady?: boolean } = {}): this {
    const { standing, reason, message } = verdict;
    const ready = this.get(ConditionType.Ready);
    const keep = options.keepReady === true && ready?.observedGeneration === this.generation;
    if (!keep)
      this.set(ConditionType.Ready, standing === "Current" ? "True" : "False", reason, message);
    const inProgress = standing === "InProgress";
    const stalled = standing === "Stalled";
    this.set(
      ConditionType.Reconciling,
      inProgress ? "True" : "False",
      reason,
      inProgress ? message : "",
    );
    return this.set(
      ConditionType.Stalled,
      stalled ? "True" : "False",
      reason,
      stalled ? message : "",
    );
  }

  toArray(): Condition[] {
    return [...this.list];
  }
}
