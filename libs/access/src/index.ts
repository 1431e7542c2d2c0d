export { ClusterIO, Paths } from "./cluster-io.js";
export {
  ADDED_LABELS_ANNOTATION,
  ADOPT_FLAG,
  deleteIdentity,
  ensureManagedNamespace,
  entityOf,
  FIELD_MANAGER,
  grantConsumerKinds,
  grantPermissions,
  IDENTITY_LABEL,
  IdentityError,
  INSTANCE_NAMESPACE_SELECTOR,
  issueKubeconfig,
  kubeconfigSecretName,
  providerNamespace,
  restoreTenantBindings,
  revokePermissions,
  setUpConsumer,
  setUpProvider,
  storeKubeconfig,
  TOKEN_EXPIRES_ANNOTATION,
  updateRoleName,
} from "./identities.js";
export type {
  Entity,
  IdentityRef,
  IssuedKubeconfig,
  KubeconfigOptions,
  NamespaceOptions,
  NamespaceOutcome,
  ProviderSetUp,
  RevokeOutcome,
} from "./identities.js";
export { countObjects, describeContents, readNamespaceContents } from "./namespace-contents.js";
export type { ContentCount, NamespaceContents } from "./namespace-contents.js";
export {
  buildKubeconfig,
  MAX_TOKEN_SECONDS,
  normalizeServerUrl,
  parseDuration,
  tokenLifetimeProblem,
  withServer,
} from "./kubeconfig.js";
export type { Kubeconfig, KubeconfigParts } from "./kubeconfig.js";
export {
  describeRules,
  mergeRules,
  parsePermissionFile,
  PermissionFileError,
  revokeRules,
  sameRules,
} from "./permission-file.js";
export {
  ALLOWED_POD_SECURITY,
  DEFAULT_POD_SECURITY,
  POD_SECURITY_ENFORCE,
  providerPolicies,
} from "./policies.js";
export type { Manifest } from "./policies.js";
export {
  AccessNames,
  consumerEventRules,
  consumerInstanceRules,
  providerEventRules,
  generatedGroups,
  instanceViewerRules,
  MANAGED_NAMESPACE_LABELS,
  ownGroups,
  permissionNames,
  providerClusterRules,
  tenantRules,
} from "./rules.js";
export type { PolicyRule, ProviderOptions } from "./rules.js";
