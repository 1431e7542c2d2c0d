/**
 * The one way both controllers write status: a merge patch of the fields one reconcile decided, and of those only
 * the ones that differ from the status it read. A reconcile never sends a field it did not decide (no spread of a
 * cached status, which may be a write behind), so two reconciles of one object that decide different fields (a
 * composition's registration and its fleet counts) cannot put back each other's older values, whatever their order.
 */
export class StatusWriter<Status extends object, Ref> {
  private readonly patch: (ref: Ref, fields: Partial<Status>) => Promise<void>;

  constructor(patch: (ref: Ref, fields: Partial<Status>) => Promise<void>) {
    this.patch = patch;
  }

  /** Patches `fields` (a null removes one) unless each already holds in `observed`; true when it wrote. */
  async write(ref: Ref, observed: Status | undefined, fields: Partial<Status>): Promise<boolean> {
    const changed = changedFields(observed, fields);
    if (Object.keys(changed).length === 0) return false;
    await this.patch(ref, changed);
    return true;
  }
}

/** The fields of `fields` that `observed` does not already hold (a null and an absent field are the same). */
export function changedFields<Status extends object>(
  observed: Status | undefined,
  fields: Partial<Status>,
): Partial<Status> {
  const current = (observed ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([k, v]) => JSON.stringify(current[k] ?? null) !== JSON.stringify(v ?? null),
    ),
  ) as Partial<Status>;
}
