import { describe, expect, it } from "vitest";
import {
  keepUndescribed,
  buildValue,
  fieldPaths,
  schemaToModel,
  setAt,
  valueFromData,
  type FieldModel,
  type FormValue,
  type JsonSchema,
} from "./schema-form.js";

/** A kind's spec schema with every shape the form handles (as a chart's values become a CRD schema). */
const spec: JsonSchema = {
  type: "object",
  required: ["greeting", "replicas"],
  properties: {
    greeting: { type: "string", description: "What the page says.", default: "hello" },
    replicas: { type: "integer", default: 1, minimum: 1 },
    ratio: { type: "number" },
    debug: { type: "boolean" },
    tls: { type: "boolean", default: true },
    tier: { type: "string", enum: ["small", "large"], default: "small" },
    port: { "x-kubernetes-int-or-string": true },
    extra: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    db: {
      type: "object",
      description: "The database.",
      required: ["user"],
      properties: { user: { type: "string" }, size: { type: "integer" } },
    },
    hosts: { type: "array", items: { type: "string" } },
    users: {
      type: "array",
      items: { type: "object", required: ["name"], properties: { name: { type: "string" } } },
    },
    labels: { type: "object", additionalProperties: { type: "string" } },
  },
};

const model = schemaToModel(spec, "spec", true);

function field(name: string): FieldModel {
  if (model.kind !== "object") throw new Error("not an object");
  const f = model.fields.find((x) => x.name === name);
  if (!f) throw new Error(`no field ${name}`);
  return f;
}

/** The form's values for a new instance with `changes` typed in (paths as setAt takes them). */
function filled(...changes: [readonly (string | number)[], FormValue][]): FormValue {
  return changes.reduce((v, [at, next]) => setAt(v, at, next), valueFromData(model, undefined));
}

const text = (t: string): FormValue => ({ t: "text", text: t });

describe("schemaToModel", () => {
  it.each([
    ["greeting", "string"],
    ["replicas", "integer"],
    ["ratio", "number"],
    ["debug", "boolean"],
    ["tier", "enum"],
    ["port", "intOrString"],
    ["extra", "json"],
    ["db", "object"],
    ["hosts", "array"],
    ["labels", "map"],
  ])("gives %s the field kind %s", (name, kind) => {
    expect(field(name).kind).toBe(kind);
  });

  it("marks required fields from the parent's required list, nested ones too", () => {
    expect(field("greeting").required).toBe(true);
    expect(field("ratio").required).toBe(false);
    const db = field("db");
    expect(db.kind === "object" && db.fields.map((f) => [f.name, f.required])).toEqual([
      ["user", true],
      ["size", false],
    ]);
  });

  it("keeps descriptions, enum options and the item and value models", () => {
    expect(field("greeting").description).toBe("What the page says.");
    const tier = field("tier");
    expect(tier.kind === "enum" && tier.options).toEqual(["small", "large"]);
    const users = field("users");
    expect(users.kind === "array" && users.item.kind).toBe("object");
    const labels = field("labels");
    expect(labels.kind === "map" && labels.value.kind).toBe("string");
  });
});

describe("valueFromData", () => {
  it("prefills a new form with the schema's defaults", () => {
    const v = valueFromData(model, undefined);
    expect(v.t === "object" && v.fields.greeting).toEqual(text("hello"));
    expect(v.t === "object" && v.fields.replicas).toEqual(text("1"));
    expect(v.t === "object" && v.fields.tls).toEqual({ t: "bool", value: true });
    expect(v.t === "object" && v.fields.debug).toEqual({ t: "bool", value: undefined });
    expect(v.t === "object" && v.fields.tier).toEqual(text("small"));
  });

  it("shows an existing spec: nested objects, arrays and maps", () => {
    const v = valueFromData(model, {
      greeting: "hi",
      replicas: 3,
      db: { user: "u" },
      hosts: ["a", "b"],
      labels: { team: "x" },
      extra: { any: [1] },
    });
    expect(v.t === "object" && v.fields.replicas).toEqual(text("3"));
    expect(v.t === "object" && v.fields.hosts).toEqual({
      t: "array",
      items: [text("a"), text("b")],
    });
    expect(v.t === "object" && v.fields.labels).toEqual({
      t: "map",
      entries: [{ key: "team", value: text("x") }],
    });
    const built = buildValue(model, v, "spec");
    expect(built.problems).toEqual([]);
    expect(built.value).toMatchObject({ db: { user: "u" }, extra: { any: [1] } });
  });
});

describe("buildValue", () => {
  it("leaves out empty optional fields and sends the defaults as typed values", () => {
    const built = buildValue(model, valueFromData(model, undefined), "spec");
    expect(built.problems).toEqual([]);
    expect(built.value).toEqual({ greeting: "hello", replicas: 1, tls: true, tier: "small" });
  });

  it("types numbers, booleans, int-or-string and JSON", () => {
    const built = buildValue(
      model,
      filled(
        [["replicas"], text(" 3 ")],
        [["ratio"], text("0.5")],
        [["debug"], { t: "bool", value: false }],
        [["port"], text("8080")],
        [["extra"], text('{"a": [1, 2]}')],
      ),
      "spec",
    );
    expect(built.problems).toEqual([]);
    expect(built.value).toMatchObject({
      replicas: 3,
      ratio: 0.5,
      debug: false,
      port: 8080,
      extra: { a: [1, 2] },
    });
  });

  it("keeps a named port of an int-or-string field a string", () => {
    const built = buildValue(model, filled([["port"], text("http")]), "spec");
    expect(built.value).toMatchObject({ port: "http" });
  });

  it.each([
    ["replicas", "three", "must be a whole number"],
    ["replicas", "1.5", "must be a whole number"],
    ["ratio", "abc", "must be a number"],
    ["extra", "{nope", "must be JSON"],
  ])("refuses %s = %j (%s) and names the field", (name, typed, message) => {
    const built = buildValue(model, filled([[name], text(typed)]), "spec");
    expect(built.problems.map((p) => p.path)).toEqual([`spec.${name}`]);
    expect(built.problems[0]?.message).toContain(message);
  });

  it("asks for a required field left empty", () => {
    const built = buildValue(model, filled([["greeting"], text("")]), "spec");
    expect(built.problems).toEqual([{ path: "spec.greeting", message: "is required" }]);
    expect(built.value).not.toHaveProperty("greeting");
  });

  it("leaves out an optional object nobody filled in, without asking for its required fields", () => {
    const built = buildValue(model, valueFromData(model, undefined), "spec");
    expect(built.value).not.toHaveProperty("db");
  });

  it("asks for a nested object's required field once the object is filled in", () => {
    const built = buildValue(model, filled([["db", "size"], text("5")]), "spec");
    expect(built.problems).toEqual([{ path: "spec.db.user", message: "is required" }]);
    expect(built.value).toMatchObject({ db: { size: 5 } });
  });

  it("builds arrays with items added, and names an item by its index", () => {
    const v = filled(
      [["hosts"], { t: "array", items: [text("a.example"), text("b.example")] }],
      [["users"], { t: "array", items: [{ t: "object", fields: { name: text("") } }] }],
    );
    const built = buildValue(model, v, "spec");
    expect(built.value).toMatchObject({ hosts: ["a.example", "b.example"] });
    expect(built.problems).toEqual([{ path: "spec.users[0].name", message: "is required" }]);
  });

  it("refuses an empty array item rather than shifting the others' indexes", () => {
    const v = filled([["hosts"], { t: "array", items: [text(""), text("b")] }]);
    const built = buildValue(model, v, "spec");
    expect(built.problems.map((p) => p.path)).toEqual(["spec.hosts[0]"]);
    expect(built.problems[0]?.message).toContain("empty");
  });

  it("builds maps from key/value rows, skipping empty rows and refusing a key given twice", () => {
    const rows = (entries: [string, string][]): FormValue => ({
      t: "map",
      entries: entries.map(([key, v]) => ({ key, value: text(v) })),
    });
    const ok = buildValue(
      model,
      filled([
        ["labels"],
        rows([
          ["team", "a"],
          ["", ""],
          [" env ", "prod"],
        ]),
      ]),
      "spec",
    );
    expect(ok.problems).toEqual([]);
    expect(ok.value).toMatchObject({ labels: { team: "a", env: "prod" } });
    const twice = buildValue(
      model,
      filled([
        ["labels"],
        rows([
          ["a", "1"],
          ["a", "2"],
        ]),
      ]),
      "spec",
    );
    expect(twice.problems.map((p) => p.path)).toEqual(["spec.labels"]);
    expect(twice.problems[0]?.message).toContain("twice");
    const keyless = buildValue(model, filled([["labels"], rows([["", "v"]])]), "spec");
    expect(keyless.problems.map((p) => p.path)).toEqual(["spec.labels"]);
    expect(keyless.problems[0]?.message).toContain("no key");
  });

  it("sends an enum's value only when it is one of the options", () => {
    expect(buildValue(model, filled([["tier"], text("large")]), "spec").value).toMatchObject({
      tier: "large",
    });
    expect(buildValue(model, filled([["tier"], text("")]), "spec").value).not.toHaveProperty(
      "tier",
    );
    expect(buildValue(model, filled([["tier"], text("huge")]), "spec").problems[0]?.path).toBe(
      "spec.tier",
    );
  });
});

describe("fieldPaths", () => {
  it("names every field the form shows as the apiserver names it", () => {
    const v = filled([
      ["users"],
      { t: "array", items: [{ t: "object", fields: { name: text("x") } }] },
    ]);
    const paths = fieldPaths(model, v, "spec");
    expect(paths).toEqual(
      expect.arrayContaining([
        "spec",
        "spec.greeting",
        "spec.db",
        "spec.db.user",
        "spec.users",
        "spec.users[0]",
        "spec.users[0].name",
        "spec.labels",
      ]),
    );
  });
});

describe("keepUndescribed", () => {
  it("keeps the existing spec's fields the schema does not describe, and drops described ones left empty", () => {
    const existing = { greeting: "hi", ratio: 0.5, legacyKey: { a: 1 } };
    expect(keepUndescribed(model, existing, { greeting: "hello" })).toEqual({
      greeting: "hello",
      legacyKey: { a: 1 },
    });
  });

  it("sends a schema-less spec as built", () => {
    const free = schemaToModel({}, "spec", true);
    expect(free.kind).toBe("json");
    expect(keepUndescribed(free, { a: 1 }, { b: 2 })).toEqual({ b: 2 });
  });
});
