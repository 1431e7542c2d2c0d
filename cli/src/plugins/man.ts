import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import { resolveKind, type KindInfo } from "../common/instances.js";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";

export const MAN_HELP = `Print a sample manifest of a KubePlus kind: valid YAML to edit and create with kubectl create -f, each spec field
commented with its type, default and description.

Usage:
  kubectl man <Kind> [-k <kubeconfig>]
`;

export interface FieldSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, FieldSchema>;
  items?: FieldSchema;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
}

interface OpenApi {
  components?: {
    schemas?: Record<
      string,
      FieldSchema & {
        "x-kubernetes-group-version-kind"?: { group: string; version: string; kind: string }[];
      }
    >;
  };
}

function sampleValue(s: FieldSchema): unknown {
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  switch (s.type) {
    case "string":
      return "";
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "array":
      return [];
    default:
      return {};
  }
}

function comment(name: string, s: FieldSchema): string {
  const type = s.type ?? (s["x-kubernetes-preserve-unknown-fields"] ? "any" : "object");
  const parts = [
    type,
    ...(s.default !== undefined ? [`default ${JSON.stringify(s.default)}`] : []),
  ];
  const description = s.description ? `: ${s.description.replace(/\s+/g, " ").trim()}` : "";
  return `# ${name} (${parts.join(", ")})${description}`;
}

/** The spec fields as commented YAML lines (values as JSON, which is valid YAML), nested objects indented. */
export function specLines(properties: Record<string, FieldSchema>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(properties).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${indent}${comment(name, s)}`);
    const nested = s.properties && Object.keys(s.properties).length > 0 && s.default === undefined;
    if (nested) {
      lines.push(`${indent}${name}:`, ...specLines(s.properties ?? {}, `${indent}  `));
    } else {
      lines.push(`${indent}${name}: ${JSON.stringify(sampleValue(s))}`);
    }
  }
  return lines;
}

/** The kind's schema from the apiserver's OpenAPI v3 document (readable by every authenticated identity). */
async function schemaOf(kc: KubeConfig, k: KindInfo): Promise<FieldSchema> {
  const doc = (await kubeRequest(kc, "GET", `/openapi/v3/apis/${k.group}/${k.version}`)) as OpenApi;
  const found = Object.values(doc.components?.schemas ?? {}).find((s) =>
    (s["x-kubernetes-group-version-kind"] ?? []).some(
      (g) => g.kind === k.kind && g.group === k.group,
    ),
  );
  if (!found) throw new Error(`the apiserver publishes no schema for ${k.kind}.${k.group}`);
  return found.properties?.spec ?? {};
}

export function runMan(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("man", io, async () => {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        kubeconfig: { type: "string", short: "k" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.out(MAN_HELP);
      return;
    }
    const [kind, ...rest] = positionals;
    if (!kind || rest.length > 0) throw new UsageError("expected: <Kind>");
    const kc = io.loadKubeconfig(values.kubeconfig);
    const k = await resolveKind(kc, kind);
    const spec = await schemaOf(kc, k);
    const lines = [
      `# A ${k.kind} (${k.group}/${k.version}): edit, then kubectl create -f <file>`,
      `apiVersion: ${k.group}/${k.version}`,
      `kind: ${k.kind}`,
      "metadata:",
      `  name: sample-${k.kind.toLowerCase()}`,
      "spec:",
      ...(spec.properties && Object.keys(spec.properties).length > 0
        ? specLines(spec.properties, "  ")
        : ["  {}"]),
    ];
    io.out(`${lines.join("\n")}\n`);
  });
}
