/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-failed.schema.json. Regenerate with `make generate`.
 */

/**
 * An instance's install or upgrade failed, or an object of its release did (sent once per failure; a failed upgrade is rolled back).
 */
export interface InstanceFailed {
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
  reason:
    | "InstallFailed"
    | "UpgradeFailed"
    | "ChartUnavailable"
    | "IsolationRefused"
    | "NamespaceConflict"
    | "ProgressFailed";
  message: string;
}
