/**
 * Reading fields of objects the server sent, whatever their shape: a missing or mistyped field reads as empty
 * rather than throwing (an object written by another client may hold anything). Pure.
 */

/** The value at this path of property names, or undefined. */
export function get(obj: unknown, ...path: readonly string[]): unknown {
  let v = obj;
  for (const key of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** The string at this path, or "". */
export function str(obj: unknown, ...path: readonly string[]): string {
  const v = get(obj, ...path);
  return typeof v === "string" ? v : "";
}

/** The number at this path, or 0. */
export function num(obj: unknown, ...path: readonly string[]): number {
  const v = get(obj, ...path);
  return typeof v === "number" && Number.isFinite(v) ? v : 0;
}

/** The array at this path, or []. */
export function arr(obj: unknown, ...path: readonly string[]): readonly unknown[] {
  const v = get(obj, ...path);
  return Array.isArray(v) ? (v as unknown[]) : [];
}
