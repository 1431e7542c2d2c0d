import { parse, stringify } from "yaml";
import type { JsonSchema } from "@kubeplus/api";

/**
 * Chart defaults are written into descriptions, not as `default:` keywords: the apiserver would persist a
 * `default` into every instance's spec, freezing today's chart defaults into each tenant, so that a fleet upgrade to
 * a chart with new defaults would not pick them up. Helm applies the chart's own defaults at render time.
 */
function describeDefault(value: unknown, description?: string): string {
  const shown =
    typeof value === "string" ? JSON.stringify(value) : stringify(value, { lineWidth: 0 }).trim();
  const text = shown.length > 200 ? `${shown.slice(0, 197)}...` : shown;
  return description ? `${description} (chart default: ${text})` : `Chart default: ${text}`;
}

/**
 * Reads back what describeDefault wrote: the chart default and the description without it. Undefined when the
 * description records no default, or only a truncated one.
 */
export function chartDefaultIn(
  description: string | undefined,
): { value: unknown; description: string } | undefined {
  const match =
    /^Chart default: ([\s\S]*)$/.exec(description ?? "") ??
    /^([\s\S]*) \(chart default: ([\s\S]*)\)$/.exec(description ?? "");
  if (!match) return undefined;
  const [text, rest] = match.length === 2 ? [match[1] ?? "", ""] : [match[2] ?? "", match[1] ?? ""];
  if (text.endsWith("...")) return undefined;
  try {
    return { value: parse(text) as unknown, description: rest };
  } catch {
    return undefined;
  }
}

const freeForm = (extra: JsonSchema = {}): JsonSchema => ({
  "x-kubernetes-preserve-unknown-fields": true,
  ...extra,
});

function scalarSchema(value: string | number | boolean): JsonSchema {
  if (typeof value === "string") return { type: "string" };
  if (typeof value === "boolean") return { type: "boolean" };
  return { type: Number.isInteger(value) ? "integer" : "number" };
}

function mergeObjectSchemas(schemas: JsonSchema[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const s of schemas) {
    for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, JsonSchema>)) {
      properties[k] ??= v;
    }
  }
  return { type: "object", properties };
}

function arraySchema(values: unknown[]): JsonSchema {
  if (values.length === 0) return { type: "array", items: freeForm() };
  const items = values.map((v) => inferSchema(v, false));
  const types = new Set(items.map((i) => i.type));
  if (types.size === 1 && types.has("object"))
    return { type: "array", items: mergeObjectSchemas(items) };
  const [first] = items;
  if (types.size === 1 && first?.type !== undefined) return { type: "array", items: first };
  return { type: "array", items: freeForm() };
}

function objectSchema(value: Record<string, unknown>): JsonSchema {
  const entries = Object.entries(value);
  if (entries.length === 0) return { type: "object", "x-kubernetes-preserve-unknown-fields": true };
  return {
    type: "object",
    properties: Object.fromEntries(entries.map(([k, v]) => [k, inferSchema(v, true)])),
  };
}

/** Infers a structural schema from a values.yaml value: types, nested objects, lists; nulls stay optional. */
export function inferSchema(value: unknown, withDefault = true): JsonSchema {
  let schema: JsonSchema;
  if (value === null || value === undefined) {
    return freeForm({ nullable: true, description: "No chart default (null): any value." });
  } else if (Array.isArray(value)) {
    schema = arraySchema(value);
  } else if (typeof value === "object") {
    return objectSchema(value as Record<string, unknown>);
  } else if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    schema = scalarSchema(value);
  } else {
    schema = freeForm();
  }
  return withDefault ? { ...schema, description: describeDefault(value) } : schema;
}

/** What the conversion of a values.schema.json dropped or changed, for the composition's status and Events. */
export interface SchemaNote {
  readonly path: string;
  readonly note: string;
}

const DROPPED_KEYWORDS = new Set([
  "$schema",
  "$id",
  "$comment",
  "definitions",
  "$defs",
  "examples",
  "if",
  "then",
  "else",
  "dependencies",
  "dependentRequired",
  "dependentSchemas",
  "contentMediaType",
  "contentEncoding",
  "additionalItems",
  "patternProperties",
  "propertyNames",
  "contains",
  "unevaluatedProperties",
  "unevaluatedItems",
  "readOnly",
  "writeOnly",
  "deprecated",
]);
const KEPT_FORMATS = new Set([
  "int32",
  "int64",
  "float",
  "double",
  "byte",
  "date",
  "date-time",
  "password",
  "uri",
  "email",
  "hostname",
  "ipv4",
  "ipv6",
  "cidr",
  "uuid",
]);
const MAX_REF_DEPTH = 8;

interface ConvertContext {
  readonly root: Record<string, unknown>;
  readonly notes: SchemaNote[];
  readonly refDepth: number;
}

function resolveRef(
  ref: string,
  ctx: ConvertContext,
  path: string,
): Record<string, unknown> | undefined {
  if (!ref.startsWith("#/")) {
    ctx.notes.push({
      path,
      note: `external $ref '${ref}' cannot be inlined; the field accepts any value`,
    });
    return undefined;
  }
  let node: unknown = ctx.root;
  for (const part of ref.slice(2).split("/")) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
  }
  if (!node || typeof node !== "object") {
    ctx.notes.push({ path, note: `$ref '${ref}' points nowhere; the field accepts any value` });
    return undefined;
  }
  return node as Record<string, unknown>;
}

function convertType(type: unknown, out: JsonSchema, path: string, ctx: ConvertContext): void {
  if (typeof type === "string") {
    if (type !== "null") out.type = type;
    return;
  }
  if (!Array.isArray(type)) return;
  const types = (type as unknown[]).filter((t): t is string => typeof t === "string");
  const nonNull = types.filter((t) => t !== "null");
  if (types.includes("null")) out.nullable = true;
  if (nonNull.length === 1) out.type = nonNull[0];
  else if (
    nonNull.length === 2 &&
    nonNull.includes("string") &&
    nonNull.some((t) => t === "integer" || t === "number")
  ) {
    out["x-kubernetes-int-or-string"] = true;
  } else if (nonNull.length > 1) {
    out["x-kubernetes-preserve-unknown-fields"] = true;
    ctx.notes.push({
      path,
      note: `type [${nonNull.join(", ")}] is not structural; the field accepts any value`,
    });
  }
}

/** Keywords copied as they are (Kubernetes supports them in structural schemas). */
const COPIED_KEYWORDS = new Set([
  "description",
  "enum",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "multipleOf",
  "minProperties",
  "maxProperties",
  "nullable",
]);
/** Keywords dropped silently: they only organise the source schema. */
const SILENT_KEYWORDS = new Set([
  "$schema",
  "definitions",
  "$defs",
  "$id",
  "$comment",
  "title",
  "required",
]);

interface At {
  readonly path: string;
  readonly ctx: ConvertContext;
}
type KeywordHandler = (value: unknown, out: JsonSchema, at: At) => void;

function scalarTypeOf(value: unknown): string | undefined {
  if (typeof value === "string" || typeof value === "boolean") return typeof value;
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return undefined;
}

const KEYWORD_HANDLERS: Record<string, KeywordHandler> = {
  type: (value, out, { path, ctx }) => {
    convertType(value, out, path, ctx);
  },
  properties: (value, out, { path, ctx }) => {
    out.properties = Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        convertNode(v, `${path}.${k}`, ctx),
      ]),
    );
  },
  items: (value, out, { path, ctx }) => {
    out.items = Array.isArray(value) ? freeForm() : convertNode(value, `${path}[]`, ctx);
  },
  additionalProperties: (value, out, { path, ctx }) => {
    if (value && typeof value === "object")
      out.additionalProperties = convertNode(value, `${path}.*`, ctx);
    else if (value === true) out["x-kubernetes-preserve-unknown-fields"] = true;
  },
  const: (value, out) => {
    out.enum = [value];
    const type = scalarTypeOf(value);
    if (out.type === undefined && type) out.type = type;
  },
  default: (value, out) => {
    out.description = describeDefault(value, out.description as string | undefined);
  },
  format: (value, out, { path, ctx }) => {
    if (typeof value === "string" && KEPT_FORMATS.has(value)) out.format = value;
    else ctx.notes.push({ path, note: `format '${String(value)}' dropped` });
  },
  anyOf: (_value, out, { path, ctx }) => {
    out["x-kubernetes-preserve-unknown-fields"] = true;
    ctx.notes.push({
      path,
      note: "anyOf dropped (not structural); helm still validates it at render",
    });
  },
  oneOf: (_value, out, { path, ctx }) => {
    out["x-kubernetes-preserve-unknown-fields"] = true;
    ctx.notes.push({
      path,
      note: "oneOf dropped (not structural); helm still validates it at render",
    });
  },
  allOf: (value, out, { path, ctx }) => {
    for (const part of value as unknown[]) Object.assign(out, convertNode(part, path, ctx));
  },
};

/**
 * Converts one keyword. `required` is dropped on purpose: chart values are merged with the chart's defaults before
 * helm checks it, so requiring a field in every instance spec would reject instances that rely on a default.
 */
function convertKeyword(key: string, value: unknown, out: JsonSchema, at: At): void {
  const handler = KEYWORD_HANDLERS[key];
  if (handler) {
    handler(value, out, at);
  } else if (COPIED_KEYWORDS.has(key) || key.startsWith("x-kubernetes-")) {
    out[key] = value;
  } else if (!SILENT_KEYWORDS.has(key)) {
    const why = DROPPED_KEYWORDS.has(key)
      ? "not supported by Kubernetes schemas"
      : "unknown keyword";
    at.ctx.notes.push({ path: at.path, note: `${key} dropped (${why})` });
  }
}

function convertNode(node: unknown, path: string, ctx: ConvertContext): JsonSchema {
  if (node === true || node === undefined) return freeForm();
  if (!node || typeof node !== "object") return freeForm();
  let source = node as Record<string, unknown>;
  let context = ctx;
  if (typeof source.$ref === "string") {
    if (ctx.refDepth >= MAX_REF_DEPTH) {
      ctx.notes.push({
        path,
        note: `$ref nesting deeper than ${MAX_REF_DEPTH} (recursive?); the field accepts any value`,
      });
      return freeForm();
    }
    const target = resolveRef(source.$ref, ctx, path);
    if (!target) return freeForm();
    const { $ref: _ref, ...siblings } = source;
    source = { ...target, ...siblings };
    context = { ...ctx, refDepth: ctx.refDepth + 1 };
  }
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(source))
    convertKeyword(key, value, out, { path, ctx: context });
  return finalize(out);
}

/** Structural rules: a type on every node (or a preserve/int-or-string marker), no properties beside additionalProperties. */
function finalize(out: JsonSchema): JsonSchema {
  if (out.properties && out.additionalProperties) delete out.additionalProperties;
  if (out.properties && out.type === undefined) out.type = "object";
  if (out.items && out.type === undefined) out.type = "array";
  if (out.type === undefined && !out["x-kubernetes-int-or-string"])
    out["x-kubernetes-preserve-unknown-fields"] = true;
  if (out["x-kubernetes-int-or-string"]) delete out.type;
  return out;
}

/** Converts a chart's values.schema.json into a structural schema: `$ref` inlined, unsupported keywords noted. */
export function convertValuesSchema(schema: Record<string, unknown>): {
  schema: JsonSchema;
  notes: SchemaNote[];
} {
  const notes: SchemaNote[] = [];
  const converted = convertNode(schema, "spec", { root: schema, notes, refDepth: 0 });
  return { schema: { ...converted, type: "object" }, notes };
}

/** The instance spec schema: from values.schema.json when the chart has one, else inferred from values.yaml. */
export function specSchemaForChart(chart: {
  values: Record<string, unknown>;
  valuesSchema?: Record<string, unknown>;
}): { schema: JsonSchema; source: "values.schema.json" | "values.yaml"; notes: SchemaNote[] } {
  if (chart.valuesSchema) {
    const { schema, notes } = convertValuesSchema(chart.valuesSchema);
    return { schema, source: "values.schema.json", notes };
  }
  const inferred = inferSchema(chart.values);
  const { description: _d, ...schema } = inferred;
  return { schema: { ...schema, type: "object" }, source: "values.yaml", notes: [] };
}
