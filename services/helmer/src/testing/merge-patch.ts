type Fields = Record<string, unknown>;
const isFields = (v: unknown): v is Fields =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** RFC 7386, as the apiserver applies a merge patch (unit tests' stand-in for a status write landing in etcd). */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isFields(patch)) return patch;
  const base = isFields(target) ? target : {};
  const entries: [string, unknown][] = [];
  for (const key of new Set([...Object.keys(base), ...Object.keys(patch)])) {
    if (!(key in patch)) entries.push([key, base[key]]);
    else if (patch[key] !== null) entries.push([key, mergePatch(base[key], patch[key])]);
  }
  return Object.fromEntries(entries);
}
