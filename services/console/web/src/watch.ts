/**
 * A list kept current by a watch, as client-go's reflector does: list, then watch from the list's resourceVersion,
 * apply each event; an ERROR event (410 Gone: the version is too old) or the stream's end means list again. Pure:
 * the stream's bytes are split into lines here and the events merged into the list here; api.ts does the I/O.
 */

/** The metadata of a listed object the merge needs. */
export interface Listed {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}

export interface WatchEvent<T> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  readonly object: T;
}

export interface ListState<T extends Listed> {
  readonly resourceVersion: string;
  /** Sorted by namespace and name, as kubectl get prints them. */
  readonly items: readonly T[];
}

/** Splits a byte stream's decoded text into lines; a line may arrive in pieces across chunks. */
export class LineSplitter {
  private rest = "";

  /** The complete lines in this chunk (with what was left of the previous chunks); keeps the unfinished tail. */
  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split("\n");
    this.rest = parts.pop() ?? "";
    return parts.map((l) => l.replace(/\r$/, "")).filter((l) => l !== "");
  }

  /** The last line, when the stream ended without a newline. */
  end(): string[] {
    const last = this.rest.replace(/\r$/, "");
    this.rest = "";
    return last ? [last] : [];
  }
}

const TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

/** One line of a watch stream as an event, or undefined when it is not one. */
export function parseWatchLine<T>(line: string): WatchEvent<T> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { type, object } = parsed as { type?: unknown; object?: unknown };
  if (typeof type !== "string" || !TYPES.has(type) || typeof object !== "object" || object === null)
    return undefined;
  return { type: type as WatchEvent<T>["type"], object: object as T };
}

const keyOf = (o: Listed): string => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** The list's items in kubectl's order (namespace, then name). */
export function sortItems<T extends Listed>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/** The state of a fresh list. */
export function fromList<T extends Listed>(list: {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: readonly T[];
}): ListState<T> {
  return {
    resourceVersion: list.metadata?.resourceVersion ?? "",
    items: sortItems(list.items ?? []),
  };
}

/**
 * The list after one event, or "relist" when the watch cannot go on from here (an ERROR event: usually 410 Gone,
 * the resourceVersion is older than the apiserver keeps).
 */
export function applyWatchEvent<T extends Listed>(
  state: ListState<T>,
  event: WatchEvent<T>,
): ListState<T> | "relist" {
  if (event.type === "ERROR") return "relist";
  const rv = event.object.metadata?.resourceVersion ?? state.resourceVersion;
  if (event.type === "BOOKMARK") return { ...state, resourceVersion: rv };
  const key = keyOf(event.object);
  const others = state.items.filter((o) => keyOf(o) !== key);
  if (event.type === "DELETED") return { resourceVersion: rv, items: others };
  return { resourceVersion: rv, items: sortItems([...others, event.object]) };
}
