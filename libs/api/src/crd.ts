/** A JSON Schema object as Kubernetes' structural OpenAPI v3 subset uses it. */
export type JsonSchema = Record<string, unknown>;

export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
}

export interface CrdOptions {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular?: string;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** Schema of `spec`; `status` below. Both structural. */
  readonly spec: JsonSchema;
  readonly status: JsonSchema;
  readonly printerColumns?: readonly PrinterColumn[];
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly description?: string;
}

/** A CustomResourceDefinition (apiextensions.k8s.io/v1) as plain data. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: "Namespaced";
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: {
      name: string;
      served: true;
      storage: true;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JsonSchema };
    }[];
  };
}

/** Builds a namespaced CRD named `<plural>.<group>` with a status subresource and printer columns. */
export function buildCustomResourceDefinition(options: CrdOptions): CustomResourceDefinition {
  const names = {
    kind: options.kind,
    listKind: `${options.kind}List`,
    plural: options.plural,
    singular: options.singular ?? options.kind.toLowerCase(),
    ...(options.shortNames?.length ? { shortNames: [...options.shortNames] } : {}),
    ...(options.categories?.length ? { categories: [...options.categories] } : {}),
  };
  const metadata = {
    name: `${options.plural}.${options.group}`,
    ...(options.labels ? { labels: { ...options.labels } } : {}),
    ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
  };
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata,
    spec: {
      group: options.group,
      scope: "Namespaced",
      names,
      versions: [
        {
          name: options.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...(options.printerColumns ?? [])],
          schema: {
            openAPIV3Schema: {
              type: "object",
              ...(options.description ? { description: options.description } : {}),
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: options.spec,
                status: options.status,
              },
            },
          },
        },
      ],
    },
  };
}
