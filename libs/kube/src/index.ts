export { startCache } from "./cache.js";
export type { CacheOptions, WatchedCache } from "./cache.js";
export { applyObject, loadKubeConfig } from "./client.js";
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
