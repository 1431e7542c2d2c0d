/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/render-request.schema.json. Regenerate with `make generate`.
 */

/**
 * crd-hook -> helmer: fetch a chart and render it (helm template) with the given values.
 */
export interface RenderRequest {
  version: 1;
  chartURL: string;
  chartName: string;
  /**
   * Values to render with (default: the chart's own).
   */
  values?: {};
  releaseName?: string;
  namespace?: string;
}
