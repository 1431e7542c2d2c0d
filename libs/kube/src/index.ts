// Everything of @kubeplus/kube: the client-node-free part (lite.ts) and what needs client-node (watched caches,
// shared agents, client-node kubeconfigs and typed status patches).
export * from "./lite.js";
export { startCache } from "./cache.js";
export type { CacheOptions, WatchedCache } from "./cache.js";
export { shareAgents } from "./agents.js";
export { loadKubeConfig, patchStatus } from "./client.js";
export type { CustomObjectRef, PatchedObject } from "./client.js";
