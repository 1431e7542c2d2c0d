import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "prettier";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  spliceTable,
  TABLE_BEGIN,
  TABLE_END,
  valueRows,
  valuesTable,
  type ValueRow,
} from "./chart-readme.js";

const chart = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "deploy",
  "charts",
  "kubeplus",
);

const schema = {
  type: "object",
  $defs: {
    resources: { type: "object", properties: { limits: { type: "object" } } },
  },
  properties: {
    image: {
      type: "object",
      description: "not a row: its properties are",
      properties: {
        registry: { type: "string", description: "where the images are" },
        digests: {
          type: "object",
          properties: {
            "crd-hook": { type: "string", pattern: "^sha256:", description: "pinned | or not" },
          },
        },
        pullPolicy: { enum: ["Always", "IfNotPresent"], description: "when to pull" },
      },
    },
    replicas: { type: "integer", minimum: 0, maximum: 9, description: "pods" },
    resources: { $ref: "#/$defs/resources", description: "requests and limits" },
    tolerations: { type: "array", items: { type: "object" }, description: "as in a pod" },
    labels: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "extra labels",
    },
    minAvailable: { type: ["integer", "string", "null"], description: "a number or a percentage" },
  },
};
const values = {
  image: { registry: "ghcr.io/kp", digests: { "crd-hook": "" }, pullPolicy: "IfNotPresent" },
  replicas: 2,
  resources: { limits: { memory: "1Gi" } },
  tolerations: [],
};

describe("valueRows", () => {
  const rows = valueRows(schema, values);
  const row = (key: string): ValueRow | undefined => rows.find((r) => r.key === key);

  it("gives a row per leaf value, nested keys as dotted paths, in the schema's order", () => {
    expect(rows.map((r) => r.key)).toEqual([
      "image.registry",
      "image.digests.crd-hook",
      "image.pullPolicy",
      "replicas",
      "resources",
      "tolerations",
      "labels",
      "minAvailable",
    ]);
  });

  it("shows each value's default from values.yaml as JSON, and none when values.yaml has none", () => {
    expect(row("image.registry")?.default).toBe('"ghcr.io/kp"');
    expect(row("image.digests.crd-hook")?.default).toBe('""');
    expect(row("replicas")?.default).toBe("2");
    expect(row("resources")?.default).toBe('{"limits":{"memory":"1Gi"}}');
    expect(row("tolerations")?.default).toBe("[]");
    expect(row("labels")?.default).toBe("");
  });

  it("names the type: JSON types, enums, bounds, array items, and a $ref by its definition", () => {
    expect(row("image.registry")?.type).toBe("string");
    expect(row("image.pullPolicy")?.type).toBe('one of "Always", "IfNotPresent"');
    expect(row("replicas")?.type).toBe("integer (>= 0, <= 9)");
    expect(row("resources")?.type).toBe("resources");
    expect(row("tolerations")?.type).toBe("array of object");
    expect(row("labels")?.type).toBe("object");
    expect(row("minAvailable")?.type).toBe("integer or string or null");
  });

  it("takes each value's own description, and refuses a value without one", () => {
    expect(row("image.digests.crd-hook")?.description).toBe("pinned | or not");
    expect(() =>
      valueRows(
        { properties: { a: { type: "object", properties: { b: { type: "string" } } } } },
        {},
      ),
    ).toThrow(/a\.b has no description/);
    expect(() =>
      valueRows({ properties: { a: { $ref: "#/$defs/missing", description: "x" } } }, {}),
    ).toThrow(/cannot resolve \$ref #\/\$defs\/missing/);
  });
});

describe("valuesTable and spliceTable", () => {
  it("writes a Markdown row per value, with pipes escaped so the columns hold", () => {
    const table = valuesTable([
      { key: "a.b", type: "string", default: '"x|y"', description: "one | two" },
      { key: "c", type: "object", default: "", description: "<registry>/<name>, no default" },
    ]);
    expect(table.split("\n")).toEqual([
      "| Key | Type | Default | Description |",
      "| --- | --- | --- | --- |",
      '| `a.b` | string | `"x\\|y"` | one \\| two |',
      "| `c` | object |  | \\<registry>/\\<name>, no default |",
      "",
    ]);
  });

  it("replaces only what lies between the markers, and fails without them", () => {
    const readme = `# Chart\n\nintro\n\n${TABLE_BEGIN}\nold table\n${TABLE_END}\n\nafter\n`;
    const out = spliceTable(readme, "| new |\n");
    expect(out).toBe(`# Chart\n\nintro\n\n${TABLE_BEGIN}\n\n| new |\n\n${TABLE_END}\n\nafter\n`);
    expect(spliceTable(out, "| new |\n")).toBe(out);
    expect(() => spliceTable("# Chart\n", "| new |\n")).toThrow(/markers/);
  });
});

describe("the chart's README", () => {
  it("holds the table make generate writes from values.schema.json and values.yaml: run make generate after a change", async () => {
    const readme = readFileSync(join(chart, "README.md"), "utf8");
    const rows = valueRows(
      JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8")) as Record<
        string,
        unknown
      >,
      parse(readFileSync(join(chart, "values.yaml"), "utf8")),
    );
    const expected = await format(spliceTable(readme, valuesTable(rows)), {
      parser: "markdown",
      printWidth: 100,
    });
    expect(readme).toBe(expected);
    // Every value of the chart is in it, the new ones included.
    for (const key of [
      "image.digests.helmer",
      "topologySpreadConstraints",
      "podDisruptionBudget.maxUnavailable",
    ])
      expect(readme).toContain(`\`${key}\``);
    expect(rows.length).toBeGreaterThan(50);
  });
});
