/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/render-reply.schema.json. Regenerate with `make generate`.
 */

/**
 * helmer -> crd-hook: the chart's identity, values, schema and rendered objects.
 */
export interface RenderReply {
  version: 1;
  chart: {
    name: string;
    version: string;
    appVersion?: string;
    /**
     * sha256 of the chart archive.
     */
    digest: string;
  };
  /**
   * Rendered manifests, in template order (hooks included).
   */
  objects: Record<string, unknown>[];
  /**
   * CRDs the chart (or a subchart) ships in crds/.
   */
  crds?: Record<string, unknown>[];
  /**
   * The chart's default values.
   */
  values: Record<string, unknown>;
  /**
   * values.schema.json, when the chart has one.
   */
  valuesSchema?: Record<string, unknown>;
  notes?: string;
}
