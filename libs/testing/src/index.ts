export {
  clusterState,
  kubeConfigFromFile,
  pluginKubectl,
  TestCluster,
  TEST_LABEL,
} from "./cluster.js";
export type { KubectlResult } from "./cluster.js";
export { waitFor, WaitTimeoutError } from "./wait.js";
export { serviceLogTails } from "./service-logs.js";
export type { WaitOptions } from "./wait.js";
export { exampleChart, sharedChart, sharedChartPath, sharedChartsDir } from "./charts.js";
export { connectNatsAs, natsEnv, serveFiles, serviceEnv, startService } from "./services.js";
export { pushChart, startPrometheus, startRegistry } from "./servers.js";
export type { TestServer } from "./servers.js";
export type { RunningService } from "./services.js";
export { chartYaml, makeArchive, minimalChart } from "./archives.js";
export type { Entry } from "./archives.js";
export {
  compositionManifest,
  conditionOf,
  ManifestDir,
  platformNamespace,
  ROOMY_POLICY,
  waitForCrd,
  freePort,
  instanceNamespace,
  startConsole,
  startCrdHook,
  startHelmer,
  tearDownPlatform,
} from "./platform.js";
export type { CompositionFixture, TearDownOptions, TestCondition } from "./platform.js";
export { testWebhookName } from "./leftovers.js";
export { spanAttribute, startOtlpReceiver } from "./otlp.js";
export type { OtlpReceiver, ReceivedSpan } from "./otlp.js";
export {
  checkAccessibility,
  CHROMIUM_PACKAGE,
  DESKTOP_VIEWPORT,
  expectAccessible,
  expectNoHorizontalScroll,
  findChromium,
  formatViolations,
  horizontalOverflow,
  launchBrowser,
  MOBILE_VIEWPORT,
  screenshot,
  useMobileViewport,
  watchPageErrors,
} from "./browser.js";
export type {
  AxeOptions,
  AxeViolation,
  NewPageOptions,
  PageErrors,
  TestBrowser,
} from "./browser.js";
