export { chartNameOf, DEFAULT_LIMITS, digestOf, inspectChartArchive } from "./archive.js";
export type { ArchiveLimits, ChartMetadata, InspectedChart } from "./archive.js";
export { ChartError, ChartErrorCode } from "./errors.js";
export { fetchChart, parseChartURL } from "./fetch.js";
export { cidrContains, isAllowed, parseAllowList, restrictedKind } from "./address-guard.js";
export type { AllowEntry } from "./address-guard.js";
export type { ChartSource, FetchDeps, FetchedChart } from "./fetch.js";
export {
  buildInstanceCrd,
  buildSampleManifest,
  INSTANCE_STATUS_SCHEMA,
  REGISTERED_BY_LABEL,
  withNodeField,
} from "./instance-crd.js";
export type { InstanceCrdResult, NewResource } from "./instance-crd.js";
export { compatibilityChecker, toJsonSchema } from "./compatibility.js";
export type { FieldProblem } from "./compatibility.js";
export { HostAccess, lintRendered, podSpecOf } from "./lint.js";
export {
  lintChartCrds,
  lintTenancy,
  PROBE_NAMESPACE,
  PROBE_RELEASE,
  type TenancyContext,
  type TenancyFinding,
} from "./tenancy.js";
export type {
  LintContext,
  LintFinding,
  LintResult,
  RbacRuleSet,
  StorageClassInfo,
} from "./lint.js";
export { HELM_YAML, parseManifests, renderChart, runCommand } from "./render.js";
export type { RenderedObject, RenderOptions } from "./render.js";
export {
  chartDefaultIn,
  convertValuesSchema,
  inferSchema,
  specSchemaForChart,
} from "./values-schema.js";
export type { SchemaNote } from "./values-schema.js";
export {
  UPLOADED_CHART_DIGEST_ANNOTATION,
  UPLOADED_CHART_FILE_ANNOTATION,
  UPLOADED_CHART_KEY,
  UPLOADED_CHART_LABEL,
  UPLOADED_CHART_MAX_BYTES,
  uploadedChartConfigMapName,
} from "./uploaded.js";
