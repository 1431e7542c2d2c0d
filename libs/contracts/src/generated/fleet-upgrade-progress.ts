/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/fleet-upgrade-progress.schema.json. Regenerate with `make generate`.
 */

/**
 * Progress of a chart change across a composition's instances (sent when the counts change).
 */
export interface FleetUpgradeProgress {
  version: 1;
  /**
   * The composition's namespace.
   */
  namespace: string;
  /**
   * The composition's name.
   */
  name: string;
  kind: string;
  /**
   * name-version of the chart the fleet is moving to.
   */
  chart: string;
  total: number;
  upgraded: number;
  pending: number;
  failed: number;
  inFlight: number;
  halted: boolean;
}
