/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/kubeconfig-reply.schema.json. Regenerate with `make generate`.
 */

/**
 * kubeconfig-generator -> requester: the kubeconfig (a credential: never log it) and when its token expires.
 */
export interface KubeconfigReply {
  version: 1;
  /**
   * The kubeconfig as compact JSON.
   */
  kubeconfig: string;
  /**
   * When the token expires (RFC 3339).
   */
  expiresAt: string;
}
