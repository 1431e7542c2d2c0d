/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/kubeconfig-request.schema.json. Regenerate with `make generate`.
 */

/**
 * any service -> kubeconfig-generator: a kubeconfig for a consumer ServiceAccount of a managed namespace.
 */
export interface KubeconfigRequest {
  version: 1;
  namespace: string;
  serviceAccount: string;
  /**
   * The API server URL to write into the kubeconfig (default: the generator's configured public URL).
   */
  server?: string;
  /**
   * Token lifetime (default: the generator's consumer token lifetime).
   */
  durationSeconds?: number;
}
