import { Ajv, type ErrorObject } from "ajv";
import type { JsonSchema } from "@kubeplus/api";

/** Why one instance's values do not fit a chart's schema, field by field. */
export interface FieldProblem {
  /** Where, as kubectl names it: `spec.replicas`, `spec.ingress.hosts[0]`. */
  readonly path: string;
  /**
   * `invalid`: the value breaks the new schema (a type, a bound, an enum, a required field); `removed`: the new
   * schema has no such field, so the apiserver would drop the value on the instance's next write.
   */
  readonly kind: "invalid" | "removed";
  readonly detail: string;
}

type Schema = Record<string, unknown>;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The structural schema of a CRD as JSON Schema for ajv: `nullable` becomes a `null` type, the `x-kubernetes-*`
 * extensions go (they say how the apiserver stores, not what is valid), `default`s stay as annotations.
 */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!isRecord(schema)) return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith("x-kubernetes-") || key === "nullable") continue;
    out[key] =
      key === "properties" && isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]))
        : toJsonSchema(value);
  }
  if (schema.nullable === true && typeof schema.type === "string") out.type = [schema.type, "null"];
  return out;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, verbose: true });

/** `/ingress/hosts/0` -> `spec.ingress.hosts[0]`. */
function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((path, p) => (/^\d+$/.test(p) ? `${path}[${p}]` : `${path}.${p}`), "spec");
}

function describe(error: ErrorObject): FieldProblem {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required")
    return {
      path: fieldPath(error.instancePath, String(params.missingProperty)),
      kind: "invalid",
      detail: "required by the new chart, and not set",
    };
  const message =
    error.keyword === "enum" && Array.isArray(params.allowedValues)
      ? `must be one of ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`
      : (error.message ?? "does not fit");
  return {
    path: fieldPath(error.instancePath),
    kind: "invalid",
    detail: `${message} (now ${JSON.stringify(error.data)})`,
  };
}

/** Values the apiserver would prune under `schema`: fields it does not name and does not keep as unknown. */
function removedFields(value: unknown, schema: unknown, path: string): FieldProblem[] {
  if (!isRecord(schema) || schema["x-kubernetes-preserve-unknown-fields"] === true) return [];
  if (Array.isArray(value))
    return value.flatMap((item, i) => removedFields(item, schema.items, `${path}[${String(i)}]`));
  if (!isRecord(value)) return [];
  const properties = isRecord(schema.properties) ? schema.properties : {};
  const additional = schema.additionalProperties;
  return Object.entries(value).flatMap(([key, v]) => {
    const child = `${path}.${key}`;
    if (key in properties) return removedFields(v, properties[key], child);
    if (isRecord(additional)) return removedFields(v, additional, child);
    if (additional === true) return [];
    return [
      {
        path: child,
        kind: "removed" as const,
        detail: "the new chart has no such value: it would be dropped from the instance",
      },
    ];
  });
}

/**
 * A checker of instances' values (their `spec`) against the spec schema of a composition's new chart: every field
 * where they do not fit, that is values the new schema refuses, and values it no longer has (the apiserver would drop
 * them). A narrowed field (a lower maximum, fewer enum values, another type) shows only when an instance uses it
 * outside the new bounds: that is what would break. Compiled once per schema, run once per instance.
 */
export function compatibilityChecker(specSchema: JsonSchema): (spec: unknown) => FieldProblem[] {
  const validate = ajv.compile(toJsonSchema(specSchema) as Schema);
  return (spec) => {
    const values = spec ?? {};
    const invalid = validate(values) ? [] : (validate.errors ?? []).map(describe);
    const removed = removedFields(values, specSchema, "spec");
    const seen = new Set<string>();
    return [...invalid, ...removed]
      .filter((p) => {
        const key = `${p.kind} ${p.path} ${p.detail}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .sort((a, b) => a.path.localeCompare(b.path));
  };
}
