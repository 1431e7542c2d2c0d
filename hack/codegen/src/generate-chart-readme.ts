#!/usr/bin/env node
// Writes the values table of deploy/charts/kubeplus/README.md from values.schema.json and values.yaml (make generate),
// formatted by prettier as `make lint` checks it.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { format } from "prettier";
import { parse } from "yaml";
import { spliceTable, valueRows, valuesTable } from "./chart-readme.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const chart = join(root, "deploy", "charts", "kubeplus");
const readmeFile = join(chart, "README.md");

const schema = JSON.parse(readFileSync(join(chart, "values.schema.json"), "utf8")) as Record<
  string,
  unknown
>;
const values = parse(readFileSync(join(chart, "values.yaml"), "utf8")) as unknown;
const rows = valueRows(schema, values);
const readme = spliceTable(readFileSync(readmeFile, "utf8"), valuesTable(rows));
writeFileSync(readmeFile, await format(readme, { parser: "markdown", printWidth: 100 }));
process.stdout.write(
  `[generate] values.schema.json, values.yaml -> ${readmeFile} (${rows.length} values)\n`,
);
