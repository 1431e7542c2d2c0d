// The client-node-free part of @kubeplus/kube: raw requests, server-side apply, leases and the light kubeconfig
// loader. A service that imports only this stays small (see access.ts).
export { loadApiAccess, StaticAccess, staticCredentials } from "./access.js";
export type { ApiAccess, StaticCredentials } from "./access.js";
export {
  apiErrorMessage,
  apiStatusCode,
  asReconcileError,
  classifyKubernetesError,
  CONFLICT_REQUEUE_MS,
  isAlreadyExists,
  isConflict,
  isNotFound,
  RequeueAfterError,
  TerminalError,
} from "./errors.js";
export { Applier, kubeRequest, KubeRequestError, kubeStream, whoAmI } from "./raw.js";
export { LeaseObservation, startLeaderElection } from "./leader.js";
export type {
  LeaderElection,
  LeaderElectionOptions,
  Lease,
  LeaseSpec,
  LeaseStore,
} from "./leader.js";
