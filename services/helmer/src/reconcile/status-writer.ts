/** The part of an object a status writer reads. */
export interface StatusHolder<Status> {
  readonly metadata: {
    readonly namespace?: string;
    readonly name?: string;
    readonly resourceVersion?: string;
  };
  readonly status?: Status;
}

/** What the apiserver answered to a status patch: the object's new version and status. */
export interface Written<Status> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly status?: Status;
}

interface OwnWrite<Status> {
  /** The version our last write made, and the status it left. */
  readonly resourceVersion: string;
  readonly status: Status;
  /** The versions the object went through before it, by our writes alone: a cache showing one of them is behind. */
  readonly behind: ReadonlySet<string>;
}

/**
 * Whether a cached version is from before our write. resourceVersions are etcd revisions, which only grow: compared
 * as numbers, which also covers a version someone else made between our read and our write, and a re-list that
 * served an older snapshot. Should a version not be a number, only the versions our writes went through count.
 */
function isBehind(version: string, mine: OwnWrite<unknown>): boolean {
  const cached = Number(version);
  const ours = Number(mine.resourceVersion);
  if (version !== "" && Number.isSafeInteger(cached) && Number.isSafeInteger(ours))
    return cached < ours;
  return mine.behind.has(version);
}

const keyOf = (o: StatusHolder<unknown>): string =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

/**
 * The one way both controllers write status.
 *
 *  - A merge patch of the fields one reconcile decided, and of those only the ones that differ from the newest status
 *    it knows; never a spread of a cached status. Two reconciles of one object that decide different fields (a
 *    composition's registration and its fleet counts) cannot put back each other's values, whatever their order.
 *  - Read-your-writes: a watch cache lags behind the writes that were just made. The writer remembers what its last
 *    write of each object left (the version and status the apiserver answered), and `current` shows it in place of a
 *    cached copy that is still at a version from before that write. So a reconcile that starts right after a write
 *    decides from that write, not from the status before it (which it would otherwise write back: a Ready condition
 *    from before a failure, a failure from before a recovery).
 */
export class StatusWriter<Status extends object, Obj extends StatusHolder<Status>> {
  private readonly patch: (object: Obj, fields: Partial<Status>) => Promise<Written<Status>>;
  private readonly own = new Map<string, OwnWrite<Status>>();

  constructor(patch: (object: Obj, fields: Partial<Status>) => Promise<Written<Status>>) {
    this.patch = patch;
  }

  /** The object with the newest status known: the cached copy, or what our later write left. */
  current<O extends Obj | undefined>(cached: O): O {
    if (!cached) return cached;
    const key = keyOf(cached);
    const mine = this.own.get(key);
    if (!mine) return cached;
    if (isBehind(cached.metadata.resourceVersion ?? "", mine))
      return { ...cached, status: mine.status };
    // The cache reached our write, or went past it (another change): it is the newest.
    this.own.delete(key);
    return cached;
  }

  /** Patches `fields` (a null removes one) unless each already holds; true when it wrote. */
  async write(object: Obj, fields: Partial<Status>): Promise<boolean> {
    const observed = this.current(object);
    const changed = changedFields(observed.status, fields);
    if (Object.keys(changed).length === 0) return false;
    const mine = this.own.get(keyOf(object));
    const written = await this.patch(object, changed);
    const version = written.metadata?.resourceVersion;
    if (version && written.status) {
      const before = observed === object ? [object.metadata.resourceVersion ?? ""] : [];
      this.own.set(keyOf(object), {
        resourceVersion: version,
        status: written.status,
        behind: new Set([
          ...(mine?.behind ?? []),
          ...(mine ? [mine.resourceVersion] : []),
          ...before,
        ]),
      });
    }
    return true;
  }

  /** Forgets an object (deleted). */
  forget(object: StatusHolder<unknown>): void {
    this.own.delete(keyOf(object));
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
