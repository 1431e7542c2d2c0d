/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-deleted.schema.json. Regenerate with `make generate`.
 */

/**
 * An instance is gone: its release was uninstalled and its namespace deleted.
 */
export interface InstanceDeleted {
  version: 1;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  generation?: number;
  /**
   * <namespace>:<release> of the instance's Helm release.
   */
  release: string;
  targetNamespace: string;
}
