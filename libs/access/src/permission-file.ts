import { parse as parseYaml } from "yaml";
import type { PolicyRule } from "./rules.js";

/** A permission file the original accepts that we cannot turn into rules: says what to change. */
export class PermissionFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermissionFileError";
  }
}

const RESOURCE_NAME = "/resourceName::";
const NON_RESOURCE_URL = "nonResourceURL::";
const NON_APIGROUP = "non-apigroup";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function verbsOf(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== "string"))
    throw new PermissionFileError(`${where}: expected a non-empty list of verbs`);
  return [...new Set(value.map((v: string) => v.trim()))].sort();
}

function ruleFor(group: string, key: string, verbs: string[], where: string): PolicyRule {
  if (group === NON_APIGROUP) {
    // The original turned such an entry into an empty rule; an empty rule grants nothing and hides the mistake.
    if (!key.startsWith(NON_RESOURCE_URL))
      throw new PermissionFileError(
        `${where}: entries under "${NON_APIGROUP}" must be "${NON_RESOURCE_URL}<url>" (for example "${NON_RESOURCE_URL}/metrics")`,
      );
    return { nonResourceURLs: [key.slice(NON_RESOURCE_URL.length)], verbs };
  }
  const at = key.indexOf(RESOURCE_NAME);
  if (at >= 0)
    return {
      apiGroups: [group],
      resources: [key.slice(0, at)],
      resourceNames: [key.slice(at + RESOURCE_NAME.length)],
      verbs,
    };
  return { apiGroups: [group], resources: [key], verbs };
}

/**
 * Parses a permission file in the original's format (JSON, else YAML):
 * `{perms: {<apiGroup>: [{<resource>[/resourceName::<name>]: [verbs]}], non-apigroup: [{nonResourceURL::<url>: [verbs]}]}}`.
 */
export function parsePermissionFile(text: string, file = "permission file"): PolicyRule[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new PermissionFileError(`${file} is neither JSON nor YAML: ${(err as Error).message}`);
    }
  }
  if (!isRecord(doc) || !isRecord(doc.perms))
    throw new PermissionFileError(
      `${file}: expected a top-level "perms" mapping of API group to a list of {resource: [verbs]}`,
    );
  const rules: PolicyRule[] = [];
  for (const [rawGroup, entries] of Object.entries(doc.perms)) {
    const group = rawGroup.trim();
    if (!Array.isArray(entries))
      throw new PermissionFileError(`${file}: perms["${group}"] must be a list`);
    for (const entry of entries) {
      if (!isRecord(entry))
        throw new PermissionFileError(
          `${file}: perms["${group}"] entries must be {resource: [verbs]}`,
        );
      for (const [rawKey, verbs] of Object.entries(entry)) {
        const key = rawKey.replace(/\s+/g, "");
        const where = `${file}: perms["${group}"]["${key}"]`;
        rules.push(ruleFor(group, key, verbsOf(verbs, where), where));
      }
    }
  }
  if (rules.length === 0) throw new PermissionFileError(`${file}: "perms" grants nothing`);
  return rules;
}

function overlaps(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.includes("*") || y.includes("*") || x.some((v) => y.includes(v));
}

/** Verbs left after revoking: a `*` on either side takes the whole scope away. */
function remainingVerbs(verbs: readonly string[], revoked: ReadonlySet<string>): string[] {
  if (revoked.size === 0) return [...verbs];
  if (verbs.includes("*") || revoked.has("*")) return [];
  return verbs.filter((v) => !revoked.has(v));
}

function revokedVerbs(targets: readonly PolicyRule[]): Set<string> {
  return new Set(targets.flatMap((t) => t.verbs));
}

/** Regroups (item, verbs) pairs into one rule per distinct verb set. */
function regroup(
  pairs: readonly { item: string; verbs: string[] }[],
  make: (items: string[], verbs: string[]) => PolicyRule,
): PolicyRule[] {
  const byVerbs = new Map<string, { items: string[]; verbs: string[] }>();
  for (const { item, verbs } of pairs) {
    if (verbs.length === 0) continue;
    const key = [...verbs].sort().join(",");
    const group = byVerbs.get(key) ?? { items: [], verbs: [...verbs].sort() };
    group.items.push(item);
    byVerbs.set(key, group);
  }
  return [...byVerbs.values()].map((g) => make(g.items, g.verbs));
}

function revokeUrlRule(rule: PolicyRule, revoke: readonly PolicyRule[]): PolicyRule[] {
  const urlRevokes = revoke.filter((r) => (r.nonResourceURLs ?? []).length > 0);
  const pairs = (rule.nonResourceURLs ?? []).map((url) => ({
    item: url,
    verbs: remainingVerbs(
      rule.verbs,
      revokedVerbs(urlRevokes.filter((r) => overlaps([url], r.nonResourceURLs))),
    ),
  }));
  return regroup(pairs, (urls, verbs) => ({ nonResourceURLs: urls, verbs }));
}

function revokeResourceRule(rule: PolicyRule, revoke: readonly PolicyRule[]): PolicyRule[] {
  const targets = revoke.filter(
    (r) =>
      (r.resources ?? []).length > 0 &&
      overlaps(rule.apiGroups, r.apiGroups) &&
      overlaps(rule.resources, r.resources),
  );
  if (targets.length === 0) return [rule];
  const resources = rule.resources ?? [];
  const wildcard =
    resources.length === 0 || resources.includes("*") || (rule.apiGroups ?? []).includes("*");
  if (wildcard) {
    const verbs = remainingVerbs(rule.verbs, revokedVerbs(targets));
    return verbs.length > 0 ? [{ ...rule, verbs }] : [];
  }
  const pairs = resources.map((resource) => ({
    item: resource,
    verbs: remainingVerbs(
      rule.verbs,
      revokedVerbs(targets.filter((t) => overlaps([resource], t.resources))),
    ),
  }));
  return regroup(pairs, (items, verbs) => ({ ...rule, resources: items, verbs }));
}

/**
 * Takes the revoked permissions out of a role's rules (the original's semantics): a rule is targeted when API
 * groups and resources overlap (URLs for non-resource rules; `*` matches anything); its listed verbs are removed,
 * and a `*` on either side removes the whole scope. Rules naming resources explicitly are split per resource and
 * regrouped by what remains, so revoking `delete pods` from `get,delete pods,services` leaves `get,delete services`
 * and `get pods`.
 */
export function revokeRules(
  existing: readonly PolicyRule[],
  revoke: readonly PolicyRule[],
): PolicyRule[] {
  return existing.flatMap((rule) =>
    (rule.nonResourceURLs ?? []).length > 0
      ? revokeUrlRule(rule, revoke)
      : revokeResourceRule(rule, revoke),
  );
}

function ruleKey(rule: PolicyRule): string {
  const sorted = (v?: string[]): string[] => [...(v ?? [])].sort();
  return JSON.stringify([
    sorted(rule.apiGroups),
    sorted(rule.resources),
    sorted(rule.resourceNames),
    sorted(rule.nonResourceURLs),
    sorted(rule.verbs),
  ]);
}

/** True when two rule lists grant the same (order and duplicates aside). */
export function sameRules(a: readonly PolicyRule[], b: readonly PolicyRule[]): boolean {
  const ka = [...new Set(a.map(ruleKey))].sort();
  const kb = [...new Set(b.map(ruleKey))].sort();
  return JSON.stringify(ka) === JSON.stringify(kb);
}

/** Adds rules to a list, skipping those already present (so `update` twice grants once). */
export function mergeRules(
  existing: readonly PolicyRule[],
  added: readonly PolicyRule[],
): PolicyRule[] {
  const seen = new Set(existing.map(ruleKey));
  const out = [...existing];
  for (const rule of added) {
    const key = ruleKey(rule);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(rule);
  }
  return out;
}

/** Rules in a line a person reads ("get,list clusterroles.rbac.authorization.k8s.io; get /metrics"). */
export function describeRules(rules: readonly PolicyRule[]): string {
  return rules
    .map((rule) => {
      const verbs = rule.verbs.join(",");
      if ((rule.nonResourceURLs ?? []).length > 0)
        return `${verbs} ${(rule.nonResourceURLs ?? []).join(",")}`;
      const groups = rule.apiGroups ?? [""];
      const names = rule.resourceNames?.length ? `/${rule.resourceNames.join(",")}` : "";
      const targets = (rule.resources ?? []).flatMap((r) =>
        groups.map((g) => `${r}${g ? `.${g}` : ""}${names}`),
      );
      return `${verbs} ${targets.join(",")}`;
    })
    .join("; ");
}
