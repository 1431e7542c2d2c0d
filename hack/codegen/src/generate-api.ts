#!/usr/bin/env node
// Generates, from each libs/api/schemas/<kind>.<version>.schema.json (the source of truth):
//   libs/api/src/generated/<kind>-<version>.ts     TypeScript types of spec and status
//   deploy/charts/kubeplus/crds/<plural>.<group>.yaml   the CustomResourceDefinition
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile } from "json-schema-to-typescript";
import { stringify } from "yaml";
import { buildCustomResourceDefinition, type JsonSchema, type PrinterColumn } from "@kubeplus/api";
import { toCrdSchema, toTypeScriptSchema } from "./schema.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const schemaDir = join(root, "libs", "api", "schemas");
const typesDir = join(root, "libs", "api", "src", "generated");
const crdDir = join(root, "deploy", "charts", "kubeplus", "crds");

interface CrdMeta {
  group: string;
  version: string;
  plural: string;
  singular: string;
  shortNames?: string[];
  printerColumns?: PrinterColumn[];
}

interface AuthoredSchema extends JsonSchema {
  title: string;
  description?: string;
  "x-kubeplus-crd": CrdMeta;
  properties: { spec: JsonSchema; status: JsonSchema };
}

const banner = (source: string): string =>
  `/* eslint-disable */\n/**\n * GENERATED FILE: DO NOT EDIT.\n * Source: libs/api/schemas/${source}. Regenerate with \`make generate\`.\n */`;

async function typesFor(file: string, schema: AuthoredSchema): Promise<string> {
  const options = {
    additionalProperties: false,
    strictIndexSignatures: true,
    unknownAny: true,
    format: true,
    declareExternallyReferenced: true,
  };
  const spec = await compile(
    toTypeScriptSchema(schema.properties.spec, `${schema.title}Spec`),
    "spec",
    {
      ...options,
      bannerComment: banner(file),
    },
  );
  const status = await compile(
    toTypeScriptSchema(schema.properties.status, `${schema.title}Status`),
    "status",
    { ...options, bannerComment: "" },
  );
  return `${spec}\n${status}`;
}

function crdFor(file: string, schema: AuthoredSchema): string {
  const meta = schema["x-kubeplus-crd"];
  const crd = buildCustomResourceDefinition({
    group: meta.group,
    version: meta.version,
    kind: schema.title,
    plural: meta.plural,
    singular: meta.singular,
    shortNames: meta.shortNames ?? [],
    categories: ["kubeplus"],
    printerColumns: meta.printerColumns ?? [],
    spec: toCrdSchema(schema.properties.spec),
    status: toCrdSchema(schema.properties.status),
    labels: { "app.kubernetes.io/part-of": "kubeplus" },
    ...(schema.description ? { description: schema.description } : {}),
  });
  const header = `# GENERATED FILE: DO NOT EDIT. Source: libs/api/schemas/${file}. Regenerate with \`make generate\`.\n`;
  return header + stringify(crd, { lineWidth: 0 });
}

async function main(): Promise<void> {
  mkdirSync(typesDir, { recursive: true });
  mkdirSync(crdDir, { recursive: true });
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".schema.json"))
    .sort();
  for (const file of files) {
    const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8")) as AuthoredSchema;
    const meta = schema["x-kubeplus-crd"];
    const base = `${schema.title.toLowerCase()}-${meta.version}`;
    writeFileSync(join(typesDir, `${base}.ts`), await typesFor(file, schema));
    writeFileSync(join(crdDir, `${meta.plural}.${meta.group}.yaml`), crdFor(file, schema));
    process.stdout.write(`[generate] ${file} -> ${base}.ts, ${meta.plural}.${meta.group}.yaml\n`);
  }
}

await main();
