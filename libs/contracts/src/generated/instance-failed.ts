/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-failed.schema.json. Regenerate with `make generate`.
 */

/**
 * An instance's install or upgrade failed (sent once per failure; an upgrade is rolled back).
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
  reason: "InstallFailed" | "UpgradeFailed" | "ChartUnavailable" | "IsolationRefused" | "NamespaceConflict";
  message: string;
}
