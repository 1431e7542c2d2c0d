/** One RFC 6902 operation. */
export interface PatchOp {
  op: "add" | "remove" | "replace";
  path: string;
  value?: unknown;
}

const pointer = (token: string): string => token.replace(/~/g, "~0").replace(/\//g, "~1");
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The JSON Patch that turns `from` into `to` (objects are walked key by key; arrays and scalars are replaced
 * whole). Mutators return a changed copy and never write patch operations by hand.
 */
export function diffToPatch(from: unknown, to: unknown, path = ""): PatchOp[] {
  if (isObject(from) && isObject(to)) {
    const ops: PatchOp[] = [];
    for (const key of Object.keys(from)) {
      if (!(key in to)) ops.push({ op: "remove", path: `${path}/${pointer(key)}` });
    }
    for (const [key, value] of Object.entries(to)) {
      const child = `${path}/${pointer(key)}`;
      if (!(key in from)) ops.push({ op: "add", path: child, value });
      else ops.push(...diffToPatch(from[key], value, child));
    }
    return ops;
  }
  return JSON.stringify(from) === JSON.stringify(to) ? [] : [{ op: "replace", path, value: to }];
}
