/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/metrics-collect-request.schema.json. Regenerate with `make generate`.
 */

/**
 * Collect one instance's usage now (the reply is an InstanceUsage).
 */
export interface MetricsCollectRequest {
  version: 1;
  kind: string;
  namespace: string;
  name: string;
}
