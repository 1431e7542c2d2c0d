interface Meta {
  readonly generation?: number;
  readonly deletionTimestamp?: unknown;
  readonly finalizers?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Which watch events call for a reconcile: a change of what a reconcile acts on (the spec, through generation;
 * deletion; finalizers; labels and annotations), never a change of status alone, which is most often our own write
 * (a composition's fleet counts move with every instance). Requeues poll what is still moving.
 */
export class WakeFilter {
  private readonly seen = new Map<string, string>();

  /** Whether the object `key` changed in a way that needs a reconcile; a deletion always does. */
  wakes(key: string, metadata: Meta | undefined, event: "add" | "update" | "delete"): boolean {
    if (event === "delete") {
      this.seen.delete(key);
      return true;
    }
    const m = metadata ?? {};
    const fingerprint = JSON.stringify([
      m.generation,
      m.deletionTimestamp,
      m.finalizers,
      m.labels,
      m.annotations,
    ]);
    if (this.seen.get(key) === fingerprint) return false;
    this.seen.set(key, fingerprint);
    return true;
  }
}
