#!/usr/bin/env node
// Generates libs/contracts/src/generated/<message>.ts from libs/contracts/schemas/<message>.schema.json, and the
// NATS permissions of every identity (deploy/charts/kubeplus/files/nats-permissions.json) from the subject registry.
import { natsPermissionTable } from "@kubeplus/contracts";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compile, type JSONSchema } from "json-schema-to-typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const schemaDir = join(root, "libs", "contracts", "schemas");
const outDir = join(root, "libs", "contracts", "src", "generated");
const permissionsFile = join(
  root,
  "deploy",
  "charts",
  "kubeplus",
  "files",
  "nats-permissions.json",
);

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const files = readdirSync(schemaDir)
    .filter((f) => f.endsWith(".schema.json"))
    .sort();
  for (const file of files) {
    const schema = JSON.parse(readFileSync(join(schemaDir, file), "utf8")) as JSONSchema;
    const name = file.replace(/\.schema\.json$/, "");
    const ts = await compile(schema, name, {
      additionalProperties: false,
      strictIndexSignatures: true,
      unknownAny: true,
      format: true,
      bannerComment: `/* eslint-disable */\n/**\n * GENERATED FILE: DO NOT EDIT.\n * Source: libs/contracts/schemas/${file}. Regenerate with \`make generate\`.\n */`,
    });
    writeFileSync(join(outDir, `${name}.ts`), ts);
    process.stdout.write(`[generate] ${file} -> ${name}.ts\n`);
  }
  mkdirSync(dirname(permissionsFile), { recursive: true });
  writeFileSync(permissionsFile, `${JSON.stringify(natsPermissionTable(), null, 2)}\n`);
  process.stdout.write(`[generate] subjects.ts -> ${permissionsFile}\n`);
}

await main();
