export { clusterEnvironment, componentStatus, down, isHealthy, readState, up } from "./cluster.js";
export type { ClusterState, ComponentStatus, UpOptions } from "./cluster.js";
export type { Ports, ToolPaths } from "./components.js";
export { mintIdentity } from "./identity.js";
export type { IdentityOptions } from "./identity.js";
export { buildKubeconfig } from "./kubeconfig.js";
export { defaultRunDir, repoRoot } from "./paths.js";
export { tailFile } from "./process.js";
