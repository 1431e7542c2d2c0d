/** The group of the kinds compositions serve, and of the compositions themselves. */
export const INSTANCE_GROUP = "platformapi.kubeplus";
export const COMPOSITION_GROUP = "workflows.kubeplus";

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface DiscoveredResource {
  readonly name: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

export interface CatalogKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly description: string;
  /** The verbs this user holds on the kind in the namespace, as RBAC grants them. */
  readonly verbs: readonly string[];
  /** The kind's `.spec` schema (openAPIV3Schema), for the generated form. */
  readonly schema: Record<string, unknown>;
}

export interface Catalog {
  readonly namespace: string;
  readonly kinds: readonly CatalogKind[];
  readonly compositions: boolean;
}

const ALL_VERBS = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
  "deletecollection",
];

/**
 * The verbs the rules of a SelfSubjectRulesReview give on every object of `group`/`resource` (rules limited to some
 * names do not count: the console lists and creates, which names cannot bound).
 */
function covers(rule: PolicyRule, group: string, resource: string): boolean {
  if (rule.resourceNames && rule.resourceNames.length > 0) return false;
  const groups = rule.apiGroups ?? [];
  const resources = rule.resources ?? [];
  return (
    (groups.includes("*") || groups.includes(group)) &&
    (resources.includes("*") || resources.includes(resource))
  );
}

export function verbsOn(rules: readonly PolicyRule[], group: string, resource: string): string[] {
  const verbs = new Set<string>();
  for (const rule of rules.filter((r) => covers(r, group, resource)))
    for (const verb of rule.verbs) for (const v of verb === "*" ? ALL_VERBS : [verb]) verbs.add(v);
  return ALL_VERBS.filter((v) => verbs.has(v));
}

type Schema = Record<string, unknown>;

interface OpenApiDocument {
  readonly components?: { readonly schemas?: Record<string, Schema> };
}

/** The schema of one kind in an OpenAPI v3 document of its group-version, found by its x-kubernetes-group-version-kind. */
export function kindSchema(
  doc: OpenApiDocument,
  group: string,
  version: string,
  kind: string,
): Schema | undefined {
  for (const schema of Object.values(doc.components?.schemas ?? {})) {
    const gvks = schema["x-kubernetes-group-version-kind"];
    if (
      Array.isArray(gvks) &&
      gvks.some((g: Schema) => g.group === group && g.version === version && g.kind === kind)
    )
      return schema;
  }
  return undefined;
}

/**
 * The kinds a user may see in a namespace: the instance kinds of one group-version that its rules let it list, each
 * with the verbs it holds, its description and the schema of its spec.
 */
export interface GroupVersionFacts {
  readonly group: string;
  readonly version: string;
  /** The group-version's discovery document's resources. */
  readonly resources: readonly DiscoveredResource[];
  /** The user's rules in the namespace (SelfSubjectRulesReview). */
  readonly rules: readonly PolicyRule[];
  /** The group-version's OpenAPI v3 document. */
  readonly openapi: OpenApiDocument;
}

export function catalogKinds({
  group,
  version,
  resources,
  rules,
  openapi,
}: GroupVersionFacts): CatalogKind[] {
  const kinds: CatalogKind[] = [];
  for (const resource of resources) {
    if (resource.name.includes("/") || !resource.namespaced) continue;
    const verbs = verbsOn(rules, group, resource.name);
    if (!verbs.includes("list")) continue;
    const schema = kindSchema(openapi, group, version, resource.kind);
    const properties = (schema?.properties ?? {}) as Record<string, Schema>;
    kinds.push({
      group,
      version,
      kind: resource.kind,
      plural: resource.name,
      description: typeof schema?.description === "string" ? schema.description : "",
      verbs,
      schema: properties.spec ?? { type: "object" },
    });
  }
  return kinds.sort((a, b) => a.kind.localeCompare(b.kind));
}
