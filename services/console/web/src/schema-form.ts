/**
 * The create/edit form of any kind, generated from its openAPIV3Schema (never written for one kind). Pure: a schema
 * becomes a field model (schemaToModel), an object or the schema's defaults become form values (valueFromData), and
 * form values become the object to send (buildValue: empty optional fields left out, numbers typed, required fields
 * checked). Field paths are written as the apiserver and the webhook name them (`spec.a.b`, `spec.list[0].c`), so
 * that a refusal can be shown next to the field it names.
 */

/** The part of a structural schema (OpenAPI v3, as CRDs allow it) the form reads. */
export interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

interface FieldBase {
  /** The property's name in its parent object (the label shown). */
  readonly name: string;
  readonly description?: string;
  readonly required: boolean;
  readonly default?: unknown;
}

export type FieldModel =
  | (FieldBase & { readonly kind: "string"; readonly format?: string })
  | (FieldBase & {
      readonly kind: "integer" | "number";
      readonly minimum?: number;
      readonly maximum?: number;
    })
  | (FieldBase & { readonly kind: "boolean" })
  | (FieldBase & { readonly kind: "enum"; readonly options: readonly unknown[] })
  /** x-kubernetes-int-or-string: digits are sent as a number, anything else as a string. */
  | (FieldBase & { readonly kind: "intOrString" })
  /** A free-form value (x-kubernetes-preserve-unknown-fields, or no type): typed as JSON. */
  | (FieldBase & { readonly kind: "json" })
  | (FieldBase & { readonly kind: "object"; readonly fields: readonly FieldModel[] })
  | (FieldBase & { readonly kind: "array"; readonly item: FieldModel })
  /** An object with additionalProperties: key/value rows. */
  | (FieldBase & { readonly kind: "map"; readonly value: FieldModel });

export type FieldKind = FieldModel["kind"];

/** What the form holds for one field: the text typed, a checkbox, or a container of those. */
export type FormValue =
  | { readonly t: "text"; readonly text: string }
  | { readonly t: "bool"; readonly value: boolean | undefined }
  | { readonly t: "object"; readonly fields: Readonly<Record<string, FormValue>> }
  | { readonly t: "array"; readonly items: readonly FormValue[] }
  | {
      readonly t: "map";
      readonly entries: readonly { readonly key: string; readonly value: FormValue }[];
    };

export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

/** The field model of a schema; `name` is the property's name, `required` whether its parent requires it. */
export function schemaToModel(schema: JsonSchema, name: string, required: boolean): FieldModel {
  const base = baseOf(schema, name, required);
  if (schema["x-kubernetes-int-or-string"]) return { ...base, kind: "intOrString" };
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return { ...base, kind: "enum", options: schema.enum };
  switch (schema.type) {
    case "string":
      return { ...base, kind: "string", ...(schema.format ? { format: schema.format } : {}) };
    case "integer":
    case "number":
      return { ...base, kind: schema.type, ...bounds(schema) };
    case "boolean":
      return { ...base, kind: "boolean" };
    case "array":
      return schema.items
        ? { ...base, kind: "array", item: schemaToModel(schema.items, "item", true) }
        : { ...base, kind: "json" };
    default:
      return objectModel(schema, base);
  }
}

function baseOf(schema: JsonSchema, name: string, required: boolean): FieldBase {
  return {
    name,
    required,
    ...(schema.description ? { description: schema.description } : {}),
    ...(schema.default !== undefined ? { default: schema.default } : {}),
  };
}

function bounds(schema: JsonSchema): { minimum?: number; maximum?: number } {
  return {
    ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
    ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
  };
}

function objectModel(schema: JsonSchema, base: FieldBase): FieldModel {
  if (schema.properties && Object.keys(schema.properties).length > 0) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties).map(([key, s]) =>
      schemaToModel(s, key, required.has(key)),
    );
    return { ...base, kind: "object", fields };
  }
  const extra = schema.additionalProperties;
  if (extra && typeof extra === "object")
    return { ...base, kind: "map", value: schemaToModel(extra, "value", true) };
  if (extra === true && schema.type === "object")
    return { ...base, kind: "map", value: { name: "value", required: true, kind: "string" } };
  return { ...base, kind: "json" };
}

/** A child's path: `spec` + `a` -> `spec.a`; `spec.list` + 0 -> `spec.list[0]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The form values showing `data` (an existing object's field), or the schema's default where `data` is undefined
 * (so a new instance's form starts with the defaults filled in).
 */
export function valueFromData(model: FieldModel, data: unknown): FormValue {
  const d = data === undefined ? model.default : data;
  switch (model.kind) {
    case "boolean":
      return { t: "bool", value: typeof d === "boolean" ? d : undefined };
    case "object":
      return objectValue(model.fields, isRecord(d) ? d : {});
    case "array":
      return arrayValue(model.item, d);
    case "map":
      return mapValue(model.value, d);
    case "json":
      return { t: "text", text: d === undefined ? "" : JSON.stringify(d, null, 2) };
    default:
      return { t: "text", text: d === undefined || d === null ? "" : scalarText(d) };
  }
}

function arrayValue(item: FieldModel, d: unknown): FormValue {
  return {
    t: "array",
    items: Array.isArray(d) ? d.map((v: unknown) => valueFromData(item, v)) : [],
  };
}

function mapValue(value: FieldModel, d: unknown): FormValue {
  const entries = Object.entries(isRecord(d) ? d : {});
  return {
    t: "map",
    entries: entries.map(([key, v]) => ({ key, value: valueFromData(value, v) })),
  };
}

function objectValue(fields: readonly FieldModel[], src: Record<string, unknown>): FormValue {
  const out: Record<string, FormValue> = {};
  for (const f of fields) out[f.name] = valueFromData(f, src[f.name]);
  return { t: "object", fields: out };
}

function scalarText(v: unknown): string {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean"
    ? String(v)
    : JSON.stringify(v);
}

/** The empty value of a field: what a new array item or map row starts with (its defaults filled in). */
export function emptyValue(model: FieldModel): FormValue {
  return valueFromData(model, undefined);
}

/** What building one field gave: whether the user filled anything in, the value to send, and the problems. */
export interface Built {
  readonly present: boolean;
  readonly value?: unknown;
  readonly problems: readonly FieldProblem[];
}

const absent: Built = { present: false, problems: [] };

/**
 * The object to send for these form values, with the problems the form can see before sending: a required field
 * left empty, a number that is not one, JSON that does not parse, a map row without a key or with a key twice.
 * Optional fields left empty (and optional objects with nothing filled in) are left out of the object.
 */
export function buildValue(model: FieldModel, value: FormValue, path: string): Built {
  const built = buildPresent(model, value, path);
  if (built.value !== undefined || !model.required || built.problems.length) return built;
  return { present: false, problems: [{ path, message: "is required" }] };
}

function buildPresent(model: FieldModel, value: FormValue, path: string): Built {
  switch (model.kind) {
    case "object":
      return value.t === "object" ? buildObject(model, value.fields, path) : absent;
    case "array":
      return value.t === "array" ? buildArray(model.item, value.items, path) : absent;
    case "map":
      return value.t === "map" ? buildMap(model.value, value.entries, path) : absent;
    case "boolean":
      return value.t === "bool" && value.value !== undefined
        ? { present: true, value: value.value, problems: [] }
        : absent;
    default:
      return value.t === "text" ? buildScalar(model, value.text, path) : absent;
  }
}

function buildObject(
  model: Extract<FieldModel, { kind: "object" }>,
  values: Readonly<Record<string, FormValue>>,
  path: string,
): Built {
  const out: Record<string, unknown> = {};
  const children: Built[] = [];
  for (const f of model.fields) {
    const v = values[f.name];
    const built = v ? buildPresent(f, v, childPath(path, f.name)) : absent;
    children.push(built);
    if (built.value !== undefined) out[f.name] = built.value;
  }
  // Whether the user filled in anything below: a required object left untouched does not count.
  const filled = children.some((c) => c.present);
  // An optional object nobody filled in is left out, and its required fields are not asked for.
  if (!filled && !model.required) return absent;
  const problems: FieldProblem[] = [];
  model.fields.forEach((f, i) => {
    const c = children[i];
    if (!c) return;
    problems.push(...c.problems);
    if (c.value === undefined && f.required && !c.problems.length)
      problems.push({ path: childPath(path, f.name), message: "is required" });
  });
  return { present: filled, value: out, problems };
}

function buildArray(item: FieldModel, items: readonly FormValue[], path: string): Built {
  const out: unknown[] = [];
  const problems: FieldProblem[] = [];
  items.forEach((v, i) => {
    const p = childPath(path, i);
    const built = buildPresent(item, v, p);
    problems.push(...built.problems);
    // Items keep their places, so that a refusal of spec.list[2] names the third row of the form.
    if (built.value === undefined && !built.problems.length)
      problems.push({ path: p, message: "is empty: fill it in or remove it" });
    out.push(built.value ?? null);
  });
  if (out.length === 0) return absent;
  return { present: true, value: out, problems };
}

function buildMap(
  valueModel: FieldModel,
  entries: readonly { readonly key: string; readonly value: FormValue }[],
  path: string,
): Built {
  const out: Record<string, unknown> = {};
  const problems: FieldProblem[] = [];
  for (const { key, value } of entries) {
    const k = key.trim();
    const built = buildPresent(valueModel, value, childPath(path, k || "?"));
    if (!k) {
      if (built.present) problems.push({ path, message: "a row has a value but no key" });
      continue;
    }
    if (k in out) {
      problems.push({ path, message: `key ${JSON.stringify(k)} is given twice` });
      continue;
    }
    problems.push(...built.problems);
    out[k] = built.value ?? "";
  }
  if (Object.keys(out).length === 0 && problems.length === 0) return absent;
  return { present: true, value: out, problems };
}

const WHOLE = /^[-+]?\d+$/;

function buildScalar(model: FieldModel, text: string, path: string): Built {
  // Text is kept as typed (spaces too); other kinds ignore surrounding spaces.
  const t = model.kind === "string" ? text : text.trim();
  if (t === "") return absent;
  const parsed = parseScalar(model, t);
  return "problem" in parsed
    ? { present: true, problems: [{ path, message: parsed.problem }] }
    : { present: true, value: parsed.value, problems: [] };
}

function parseScalar(model: FieldModel, t: string): { value: unknown } | { problem: string } {
  switch (model.kind) {
    case "integer":
      return WHOLE.test(t) ? { value: Number(t) } : { problem: "must be a whole number" };
    case "number":
      return Number.isFinite(Number(t)) ? { value: Number(t) } : { problem: "must be a number" };
    case "intOrString":
      return { value: WHOLE.test(t) ? Number(t) : t };
    case "enum":
      return enumValue(model.options, t);
    case "json":
      return jsonValue(t);
    default:
      return { value: t };
  }
}

function enumValue(
  options: readonly unknown[],
  t: string,
): { value: unknown } | { problem: string } {
  const found = options.find((o) => scalarText(o) === t);
  return found === undefined
    ? { problem: `must be one of ${options.map(scalarText).join(", ")}` }
    : { value: found };
}

function jsonValue(t: string): { value: unknown } | { problem: string } {
  try {
    return { value: JSON.parse(t) as unknown };
  } catch {
    return { problem: 'must be JSON (for example {"key": "value"} or [1, 2])' };
  }
}

/** Every field path the form shows for these values (objects, arrays and maps included), for placing refusals. */
export function fieldPaths(model: FieldModel, value: FormValue, path: string): string[] {
  const out = [path];
  if (model.kind === "object" && value.t === "object") {
    for (const f of model.fields) {
      const v = value.fields[f.name];
      if (v) out.push(...fieldPaths(f, v, childPath(path, f.name)));
    }
  } else if (model.kind === "array" && value.t === "array") {
    value.items.forEach((v, i) => out.push(...fieldPaths(model.item, v, childPath(path, i))));
  }
  return out;
}

/** The form values with `next` at `at` (a list of property names and item indexes under `value`). */
export function setAt(
  value: FormValue,
  at: readonly (string | number)[],
  next: FormValue,
): FormValue {
  const [head, ...rest] = at;
  if (head === undefined) return next;
  if (value.t === "object" && typeof head === "string") {
    const child = value.fields[head];
    if (!child) return value;
    return { t: "object", fields: { ...value.fields, [head]: setAt(child, rest, next) } };
  }
  if (value.t === "array" && typeof head === "number") {
    const child = value.items[head];
    if (!child) return value;
    return {
      t: "array",
      items: value.items.map((v, i) => (i === head ? setAt(child, rest, next) : v)),
    };
  }
  if (value.t === "map" && typeof head === "number") {
    const entry = value.entries[head];
    if (!entry) return value;
    return {
      t: "map",
      entries: value.entries.map((e, i) =>
        i === head ? { key: e.key, value: setAt(entry.value, rest, next) } : e,
      ),
    };
  }
  return value;
}

/**
 * The spec to send when editing: what the form built, plus the existing spec's fields the schema does not describe
 * (kept as they were: the form could not show them, so it must not drop them). Fields the schema describes and the
 * user emptied stay out.
 */
export function keepUndescribed(model: FieldModel, existing: unknown, built: unknown): unknown {
  if (model.kind !== "object" || !isRecord(existing)) return built;
  const described = new Set(model.fields.map((f) => f.name));
  const kept = Object.fromEntries(Object.entries(existing).filter(([k]) => !described.has(k)));
  return { ...kept, ...(isRecord(built) ? built : {}) };
}
