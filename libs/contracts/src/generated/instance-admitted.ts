/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/instance-admitted.schema.json. Regenerate with `make generate`.
 */

/**
 * crd-hook admitted an instance create or update of a generated kind. A reconcile request: consumers re-read the object.
 */
export interface InstanceAdmitted {
  version: 1;
  operation: "CREATE" | "UPDATE";
  group: string;
  apiVersion?: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  generation?: number;
  /**
   * The requesting user (recorded as accountidentity).
   */
  user?: string;
}
