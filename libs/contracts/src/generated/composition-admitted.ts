/* eslint-disable */
/**
 * GENERATED FILE: DO NOT EDIT.
 * Source: libs/contracts/schemas/composition-admitted.schema.json. Regenerate with `make generate`.
 */

/**
 * crd-hook admitted a ResourceComposition create or update. A reconcile request: consumers re-read the object.
 */
export interface CompositionAdmitted {
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
