// The values table of the KubePlus chart's README, from values.schema.json (types, constraints, descriptions) and
// values.yaml (defaults). Pure: generate-chart-readme.ts reads the files and writes the README.

type Node = Record<string, unknown>;

/** One row of the table: a value's dotted path, its type and constraints, its default and what it means. */
export interface ValueRow {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly description: string;
}

export const TABLE_BEGIN =
  "<!-- values-table:begin: generated from values.schema.json and values.yaml by `make generate`; do not edit -->";
export const TABLE_END = "<!-- values-table:end -->";

const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A local reference (#/$defs/<name> or #/definitions/<name>): the definition and its name. */
function resolveRef(root: Node, ref: string): { name: string; node: Node } {
  const m = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
  const defs = m ? root[m[1] ?? ""] : undefined;
  const node = m && isNode(defs) ? defs[m[2] ?? ""] : undefined;
  if (!m || !isNode(node)) throw new Error(`values schema: cannot resolve $ref ${ref}`);
  return { name: m[2] ?? "", node };
}

/** The type column: the JSON type (or the $ref's definition name), its enum and bounds. */
function typeOf(root: Node, node: Node): string {
  if (typeof node.$ref === "string") return resolveRef(root, node.$ref).name;
  if (Array.isArray(node.enum))
    return `one of ${node.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const types = (Array.isArray(node.type) ? node.type : [node.type ?? "any"]).map(String);
  let type = types.join(" or ");
  if (types[0] === "array" && isNode(node.items)) {
    const items = typeOf(root, node.items);
    if (items !== "any") type = `array of ${items}`;
  }
  const bounds = [
    typeof node.minimum === "number" ? `>= ${String(node.minimum)}` : "",
    typeof node.maximum === "number" ? `<= ${String(node.maximum)}` : "",
  ].filter(Boolean);
  return bounds.length > 0 ? `${type} (${bounds.join(", ")})` : type;
}

/** A default as the table shows it: JSON on one line (strings quoted, so an empty string is visible). */
function formatDefault(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

function valueAt(values: unknown, path: readonly string[]): unknown {
  let current = values;
  for (const key of path) {
    if (!isNode(current)) return undefined;
    current = current[key];
  }
  return current;
}

/**
 * Every value of the schema as a row, depth first in the schema's order. An object with `properties` of its own
 * gives a row per property (dotted paths); a `$ref`, an array, a map or a free-form object is one row. Every row
 * must have a description (the schema's own, or, for an object of properties, its parent's is not inherited):
 * a value without one throws, so the README cannot leave a value unexplained.
 */
export function valueRows(schema: Node, values: unknown): ValueRow[] {
  const rows: ValueRow[] = [];
  const walk = (node: Node, path: string[]): void => {
    const properties = typeof node.$ref === "string" ? undefined : node.properties;
    if (path.length > 0 && !isNode(properties)) {
      const key = path.join(".");
      if (typeof node.description !== "string" || node.description.trim() === "")
        throw new Error(`values schema: ${key} has no description (add one to values.schema.json)`);
      rows.push({
        key,
        type: typeOf(schema, node),
        default: formatDefault(valueAt(values, path)),
        description: node.description.trim(),
      });
      return;
    }
    if (!isNode(properties)) return;
    for (const [name, child] of Object.entries(properties)) {
      if (isNode(child)) walk(child, [...path, name]);
    }
  };
  walk(schema, []);
  return rows;
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
/** Prose: also `<` escaped, so `<registry>` is text and not an HTML tag. */
const prose = (text: string): string => cell(text).replace(/</g, "\\<");
const code = (text: string): string => (text === "" ? "" : `\`${text}\``);

/** The Markdown table (unaligned: the generator formats it with prettier). */
export function valuesTable(rows: readonly ValueRow[]): string {
  const lines = [
    "| Key | Type | Default | Description |",
    "| --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${code(r.key)} | ${prose(r.type)} | ${cell(code(r.default))} | ${prose(r.description)} |`,
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** The README with the text between the table's markers replaced; throws when the markers are missing. */
export function spliceTable(readme: string, table: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin)
    throw new Error(`the chart README has no "${TABLE_BEGIN}" ... "${TABLE_END}" markers`);
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n\n${table}\n${readme.slice(end)}`;
}
