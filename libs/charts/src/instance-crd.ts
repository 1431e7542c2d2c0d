import { stringify } from "yaml";
import {
  buildCustomResourceDefinition,
  type CustomResourceDefinition,
  type JsonSchema,
  PIN_CHART_SAMPLE_LINES,
} from "@kubeplus/api";
import { specSchemaForChart, type SchemaNote } from "./values-schema.js";

/** The new API a composition asks for (`spec.newResource.resource`). */
export interface NewResource {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** Label on every generated CRD (the original's `registered-by: kubeplus`, kept for its users' selectors). */
export const REGISTERED_BY_LABEL = "registered-by";

const condition: JsonSchema = {
  type: "object",
  required: ["type", "status"],
  properties: {
    type: { type: "string" },
    status: { type: "string" },
    reason: { type: "string" },
    message: { type: "string" },
    lastTransitionTime: { type: "string", format: "date-time" },
    observedGeneration: { type: "integer", format: "int64" },
  },
};

/** Status of every instance of a generated kind: what the helmer reports. */
export const INSTANCE_STATUS_SCHEMA: JsonSchema = {
  type: "object",
  properties: {
    helmrelease: {
      type: "string",
      description: "<namespace>:<release> of the instance's Helm release.",
    },
    namespace: {
      type: "string",
      description:
        "The namespace of the instance's release: <instance>-<8 hex digits of sha256(uid)> for a namespace KubePlus created (or the instance's name, for one created before that rule).",
    },
    error: { type: "string", description: "The last error, when there is one." },
    observedGeneration: { type: "integer", format: "int64" },
    conditions: {
      type: "array",
      items: condition,
      "x-kubernetes-list-type": "map",
      "x-kubernetes-list-map-keys": ["type"],
    },
    chart: {
      type: "object",
      properties: {
        name: { type: "string" },
        version: { type: "string" },
        ref: { type: "string" },
        digest: { type: "string" },
      },
    },
    failedChart: {
      type: "object",
      description: "The chart the last failed upgrade tried (the release was rolled back).",
      properties: {
        ref: { type: "string" },
        digest: { type: "string" },
        generation: { type: "integer", format: "int64" },
      },
    },
    inventory: {
      type: "array",
      description: "Objects the release owns.",
      items: {
        type: "object",
        properties: {
          apiVersion: { type: "string" },
          kind: { type: "string" },
          name: { type: "string" },
          namespace: { type: "string" },
        },
      },
    },
  },
};

export interface InstanceCrdResult {
  readonly crd: CustomResourceDefinition;
  readonly schemaSource: "values.schema.json" | "values.yaml";
  readonly notes: readonly SchemaNote[];
}

/** The CRD of a composition's new kind: spec schema from the chart, status from the helmer, kubectl columns. */
/**
 * Node isolation names the node in an instance field (`podconfig.nodeSelector: values.nodeName`): the spec must
 * accept that field even when the chart's values do not declare it.
 */
export function withNodeField(schema: JsonSchema, dottedField: string): JsonSchema {
  const [head, ...rest] = dottedField.split(".");
  if (!head) return schema;
  const properties = { ...((schema.properties ?? {}) as Record<string, JsonSchema>) };
  const existing = properties[head];
  if (rest.length === 0) {
    properties[head] = existing ?? {
      type: "string",
      description: "Name of the node this instance's pods run on (node isolation).",
    };
  } else {
    properties[head] = withNodeField(existing ?? { type: "object" }, rest.join("."));
  }
  if (schema["x-kubernetes-preserve-unknown-fields"] === true && !schema.properties) return schema;
  return { ...schema, type: "object", properties };
}

export function buildInstanceCrd(
  resource: NewResource,
  chart: {
    values: Record<string, unknown>;
    valuesSchema?: Record<string, unknown>;
    name: string;
    /** Chart.yaml's description: what a consumer reads first about the kind (the console's catalog, kubectl explain). */
    description?: string;
  },
  composition: { name: string; namespace: string; nodeSelector?: string },
): InstanceCrdResult {
  const inferred = specSchemaForChart(chart);
  const { source, notes } = inferred;
  const field = composition.nodeSelector?.startsWith("values.")
    ? composition.nodeSelector.slice("values.".length)
    : undefined;
  const schema = field ? withNodeField(inferred.schema, field) : inferred.schema;
  const crd = buildCustomResourceDefinition({
    group: resource.group,
    version: resource.version,
    kind: resource.kind,
    plural: resource.plural,
    categories: ["kubeplus"],
    description: `${chart.description?.trim() ? `${chart.description.trim().replace(/\.?$/, ".")} ` : ""}Instances of the '${chart.name}' chart, one isolated tenant each (ResourceComposition ${composition.namespace}/${composition.name}).`,
    spec: { ...schema, description: `Values of the '${chart.name}' chart (from its ${source}).` },
    status: INSTANCE_STATUS_SCHEMA,
    printerColumns: [
      { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: "Reason", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
      { name: "Chart", type: "string", jsonPath: ".status.chart.ref" },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    ],
    labels: {
      [REGISTERED_BY_LABEL]: "kubeplus",
      "app.kubernetes.io/managed-by": "kubeplus",
      "kubeplus.dev/composition": composition.name,
    },
    annotations: { "kubeplus.dev/composition": `${composition.namespace}/${composition.name}` },
  });
  return { crd, schemaSource: source, notes };
}

function typeOf(schema: JsonSchema): string {
  if (schema["x-kubernetes-int-or-string"]) return "integer or string";
  if (typeof schema.type === "string") {
    if (schema.type !== "array") return schema.type;
    const items = (schema.items ?? {}) as JsonSchema;
    return `array of ${typeOf(items)}`;
  }
  return "any";
}

function commentFor(name: string, schema: JsonSchema): string {
  const parts = [`${name} (${typeOf(schema)})`];
  if (typeof schema.description === "string") parts.push(schema.description);
  if (Array.isArray(schema.enum))
    parts.push(`one of: ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
  return parts.join(": ");
}

function sampleLines(
  values: Record<string, unknown>,
  schema: JsonSchema,
  indent: string,
): string[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const lines: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const fieldSchema = props[key] ?? {};
    lines.push(`${indent}# ${commentFor(key, fieldSchema).replace(/\n/g, " ")}`);
    if (
      value &&
      typeof value === "object" &&
      !Array.isArray(value) &&
      Object.keys(value).length > 0
    ) {
      lines.push(`${indent}${JSON.stringify(key).replace(/^"(.*)"$/, "$1")}:`);
      lines.push(...sampleLines(value as Record<string, unknown>, fieldSchema, `${indent}  `));
    } else {
      const rendered = stringify({ [key]: value }, { lineWidth: 0 })
        .trimEnd()
        .split("\n");
      lines.push(...rendered.map((l) => `${indent}${l}`));
    }
  }
  return lines;
}

/**
 * A sample manifest of the new kind (what `kubectl man <Kind>` prints): valid YAML with the chart's default values,
 * each field preceded by a comment with its type, default and description.
 */
export function buildSampleManifest(
  resource: NewResource,
  chart: { values: Record<string, unknown>; valuesSchema?: Record<string, unknown> },
): string {
  const { schema } = specSchemaForChart(chart);
  const header = [
    `apiVersion: ${resource.group}/${resource.version}`,
    `kind: ${resource.kind}`,
    "metadata:",
    `  name: sample-${resource.kind.toLowerCase()}`,
    ...PIN_CHART_SAMPLE_LINES,
  ];
  const entries = Object.keys(chart.values);
  const body =
    entries.length > 0 ? ["spec:", ...sampleLines(chart.values, schema, "  ")] : ["spec: {}"];
  return `${[...header, ...body].join("\n")}\n`;
}
