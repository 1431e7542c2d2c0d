import type { KubeConfig } from "@kubernetes/client-node";
import { PIN_CHART_SAMPLE_LINES } from "@kubeplus/api";
import { chartDefaultIn } from "@kubeplus/charts";
import { kubeRequest } from "@kubeplus/kube";
import { resolveKind, type KindInfo } from "../common/instances.js";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

export const MAN_HELP = `Print a sample manifest of a KubePlus kind: valid YAML to edit and create with kubectl create -f, each spec field
commented with its type, default and description.

Usage:
  kubectl man <Kind> [-k <kubeconfig>] [-n <kubeplus-namespace>]
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

/** The field's default: a schema default, else the chart default recorded in its description. */
function defaultOf(s: FieldSchema): { value: unknown } | undefined {
  if (s.default !== undefined) return { value: s.default };
  const recorded = chartDefaultIn(s.description);
  return recorded ? { value: recorded.value } : undefined;
}

const ZERO: Record<string, unknown> = {
  string: "",
  integer: 0,
  number: 0,
  boolean: false,
  array: [],
};

function sampleValue(s: FieldSchema): unknown {
  const d = defaultOf(s);
  if (d) return d.value;
  if (s.enum?.length) return s.enum[0];
  return ZERO[s.type ?? ""] ?? {};
}

/** The same comment the helmer's stored sample carries: name (type): description, the chart default included. */
function comment(name: string, s: FieldSchema): string {
  const type = s.type ?? (s["x-kubernetes-preserve-unknown-fields"] ? "any" : "object");
  const parts = [`${name} (${type})`];
  if (s.description) parts.push(s.description.replace(/\s+/g, " ").trim());
  if (s.enum?.length) parts.push(`one of: ${s.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  return `# ${parts.join(": ")}`;
}

/** The spec fields as commented YAML lines (values as JSON, which is valid YAML), nested objects indented. */
export function specLines(properties: Record<string, FieldSchema>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(properties).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${indent}${comment(name, s)}`);
    const nested = s.properties && Object.keys(s.properties).length > 0 && !defaultOf(s);
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

/**
 * The sample the helmer stored for the kind (ConfigMap `<kind>-usage` in the KubePlus namespace, as the original's
 * `kubectl man` reads it), when this kubeconfig may read it; consumers fall back to the published schema.
 */
async function storedSample(
  kc: KubeConfig,
  k: KindInfo,
  namespace?: string,
): Promise<string | undefined> {
  try {
    const ns = await findKubeplusNamespace(kc, namespace);
    const cm = (await kubeRequest(
      kc,
      "GET",
      `/api/v1/namespaces/${ns}/configmaps/${k.kind.toLowerCase()}-usage`,
    )) as { data?: { spec?: string } };
    return cm.data?.spec;
  } catch {
    return undefined;
  }
}

export function runMan(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("man", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          namespace: { type: "string", short: "n" },
        },
        formats: ["yaml"],
        help: MAN_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [kind, ...rest] = positionals;
    if (!kind || rest.length > 0) throw new UsageError("expected: <Kind>");
    const kc = await io.loadKubeconfig(args.target);
    const k = await resolveKind(kc, kind);
    const stored = await storedSample(kc, k, values.namespace);
    if (stored) {
      io.out(stored);
      return;
    }
    const spec = await schemaOf(kc, k);
    const lines = [
      `# A ${k.kind} (${k.group}/${k.version}): edit, then kubectl create -f <file>`,
      `apiVersion: ${k.group}/${k.version}`,
      `kind: ${k.kind}`,
      "metadata:",
      `  name: sample-${k.kind.toLowerCase()}`,
      ...PIN_CHART_SAMPLE_LINES,
      "spec:",
      ...(spec.properties && Object.keys(spec.properties).length > 0
        ? specLines(spec.properties, "  ")
        : ["  {}"]),
    ];
    io.out(`${lines.join("\n")}\n`);
  });
}
