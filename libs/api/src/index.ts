export { buildCustomResourceDefinition } from "./crd.js";
export type { CrdOptions, CustomResourceDefinition, JsonSchema, PrinterColumn } from "./crd.js";
export {
  ConditionSet,
  ConditionType,
  findCondition,
  isConditionTrue,
  setCondition,
} from "./conditions.js";
export type { Condition, Verdict } from "./conditions.js";
export {
  apiVersionOf,
  DEFAULT_GENERATED_GROUP,
  PLATFORM_GROUP,
  PLATFORM_VERSION,
  PlatformKinds,
} from "./gvk.js";
export type { GroupVersionKind, GroupVersionResource } from "./gvk.js";
export type {
  Instance,
  InstanceStatus,
  KubeObject,
  ObjectMeta,
  ResourceComposition,
  ResourceCompositionSpec,
  ResourceCompositionStatus,
  ResourceMonitor,
  ResourceMonitorSpec,
  ResourceMonitorStatus,
  ResourcePolicy,
  ResourcePolicySpec,
  ResourcePolicyStatus,
} from "./types.js";
export {
  Annotations,
  instanceNamespaceLabels,
  isManagedNamespace,
  Labels,
  MANAGED_BY_VALUE,
  MAX_RELEASE_NAME,
  PIN_CHART_SAMPLE_LINES,
  releaseNameFor,
} from "./labels.js";
export { parseQuantity } from "./quantity.js";
export {
  instanceNamespaceName,
  MAX_INSTANCE_NAME_FOR_NAMESPACE,
  MAX_NAMESPACE_NAME,
  NAMESPACE_HASH_LENGTH,
  namespaceOwnership,
  reservedNamespaceReason,
  RESERVED_NAMESPACE_PREFIXES,
  RESERVED_NAMESPACES,
  targetNamespaceFor,
  type InstanceRef,
  type NamespaceOwnership,
} from "./instance-namespace.js";
