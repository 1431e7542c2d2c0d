export { clusterEnvironment, componentStatus, down, isHealthy, readState, up } from "./cluster.js";
export type { ClusterState, ComponentStatus, UpOptions } from "./cluster.js";
export type { Ports, ToolPaths } from "./components.js";
export { mintIdentity } from "./identity.js";
export type { IdentityOptions } from "./identity.js";
export { buildKubeconfig } from "./kubeconfig.js";
export {
  devNatsUsers,
  NATS_PERMISSIONS_FILE,
  natsCredentialFiles,
  natsServerConfig,
  natsUserOf,
  SANDBOX_USER,
} from "./nats-auth.js";
export { defaultRunDir, repoRoot } from "./paths.js";
export { tailFile } from "./process.js";
export {
  consoleAccess,
  CONSOLE_LOCAL_PORT,
  helm,
  localValues,
  readStack,
  STACK_SERVICES,
  stackDown,
  stackPods,
  stackUp,
} from "./stack.js";
export type { StackOptions, StackService, StackState } from "./stack.js";
export { Demo, DemoStepFailed, runDemo } from "./demo.js";
export type { DemoOptions } from "./demo.js";
export { webhookClientCaFile, webhookClientPaths } from "./webhook-client.js";
export type { WebhookClientFiles } from "./webhook-client.js";
export {
  buildImages,
  CHART_IMAGE_REGISTRY,
  IMAGES,
  imageReference,
  imagesCacheDir,
  importImages,
  formatImages,
  lockNodeBase,
  selectImages,
  SERVICE_IMAGES,
} from "./images.js";
export type {
  BuildImagesOptions,
  BuiltImage,
  ImageDefinition,
  ImportImagesOptions,
} from "./images.js";
