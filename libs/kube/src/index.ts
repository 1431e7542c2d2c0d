export { startCache } from "./cache.js";
export type { CacheOptions, WatchedCache } from "./cache.js";
export { shareAgents } from "./agents.js";
export { loadKubeConfig, patchStatus } from "./client.js";
export { loadApiAccess, StaticAccess, staticCredentials } from "./access.js";
export type { ApiAccess, StaticCredentials } from "./access.js";
export type { CustomObjectRef } from "./client.js";
export {
  apiErrorMessage,
  apiStatusCode,
  classifyKubernetesError,
  isAlreadyExists,
  isConflict,
  isNotFound,
  RequeueAfterError,
  TerminalError,
} from "./errors.js";
export { Applier, kubeRequest, KubeRequestError, kubeStream, whoAmI } from "./raw.js";
export { canAcquire, startLeaderElection } from "./leader.js";
export type { LeaderElection, LeaderElectionOptions } from "./leader.js";
