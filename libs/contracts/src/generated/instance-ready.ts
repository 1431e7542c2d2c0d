/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-ready.schema.json. Regenerate with `make generate`.
 */

/**
 * An instance's release is deployed and its workloads are ready (sent on the transition to Ready).
 */
export interface InstanceReady {
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
  /**
   * The namespace the release lives in.
   */
  targetNamespace: string;
  /**
   * name-version of the chart deployed.
   */
  chart: string;
}
