/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/fleet-upgrade-progress.schema.json. Regenerate with `make generate`.
 */

/**
 * Progress of a chart change across a composition's instances (sent when the counts or the rollout's wave change).
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
  /**
   * Instances pinned to another chart version (annotation kubeplus.dev/pin-chart).
   */
  pinned?: number;
  /**
   * The rollout's phase (the composition's status.rollout.phase).
   */
  phase?: "Canary" | "Soaking" | "Rolling" | "Paused" | "Halted" | "Done";
  /**
   * The wave that may move now (1-based).
   */
  wave?: number;
  waves?: number;
}
