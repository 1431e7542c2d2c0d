/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/kubeconfig-request.schema.json. Regenerate with `make generate`.
 */

/**
 * the provider's tools (NATS identity provider) -> kubeconfig-generator: a kubeconfig for a consumer ServiceAccount of a managed namespace.
 */
export interface KubeconfigRequest {
  version: 1;
  namespace: string;
  serviceAccount: string;
  /**
   * Token lifetime, at most 90 days here and at most the generator's MAX_TOKEN_SECONDS (default 30 days); default: the generator's consumer token lifetime. The API server URL in the kubeconfig is always the generator's configured one, never the caller's.
   */
  durationSeconds?: number;
}
