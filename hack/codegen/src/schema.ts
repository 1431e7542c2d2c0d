import type { JsonSchema } from "@kubeplus/api";

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function mapNode(node: Node, visit: (n: Node) => Node): Node {
  const out: Node = {};
  for (const [key, value] of Object.entries(visit(node))) {
    if (isNode(value)) out[key] = mapNode(value, visit);
    else if (Array.isArray(value))
      out[key] = (value as unknown[]).map((v) => (isNode(v) ? mapNode(v, visit) : v));
    else out[key] = value;
  }
  return out;
}

/** Authoring-only keys that are not part of a CRD's structural schema. */
const AUTHORING_KEYS = new Set(["$schema", "title", "x-kubeplus-crd"]);

/** The schema as it goes into a CRD: authoring keys removed. */
export function toCrdSchema(schema: JsonSchema): JsonSchema {
  return mapNode(schema, (n) =>
    Object.fromEntries(Object.entries(n).filter(([k]) => !AUTHORING_KEYS.has(k))),
  );
}

/**
 * The schema as json-schema-to-typescript should read it: Kubernetes extensions become `tsType` overrides
 * (int-or-string is `number | string`; a free-form object is `Record<string, unknown>`).
 */
export function toTypeScriptSchema(schema: JsonSchema, title: string): JsonSchema {
  const mapped = mapNode(toCrdSchema(schema), (n) => {
    if (n["x-kubernetes-int-or-string"] === true) return { ...n, tsType: "number | string" };
    if (n["x-kubernetes-preserve-unknown-fields"] === true && !isNode(n.properties)) {
      return { ...n, tsType: "Record<string, unknown>" };
    }
    return n;
  });
  return { ...mapped, title };
}
