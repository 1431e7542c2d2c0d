export {
  callerOf,
  publish,
  request,
  REQUESTER_HEADER,
  serve,
  subscribe,
  validatePayload,
} from "./client.js";
export type { RequestMeta } from "./client.js";
export { natsInboxPrefix, natsPermissions, natsPermissionTable } from "./nats-permissions.js";
export type { NatsPermissions } from "./nats-permissions.js";
export { ContractError, ErrorCode } from "./errors.js";
export { NatsUsers, Subjects } from "./subjects.js";
export type {
  NatsUser,
  EventSubject,
  ReplyOf,
  RequestOf,
  RequestSubject,
  SubjectName,
  SubjectTypes,
} from "./subjects.js";
export type { CompositionAdmitted } from "./generated/composition-admitted.js";
export type { FleetUpgradeProgress } from "./generated/fleet-upgrade-progress.js";
export type { InstanceAdmitted } from "./generated/instance-admitted.js";
export type { InstanceDeleted } from "./generated/instance-deleted.js";
export type { InstanceFailed } from "./generated/instance-failed.js";
export type { InstanceReady } from "./generated/instance-ready.js";
export type { InstanceUsage } from "./generated/instance-usage.js";
export type { MetricsCollectRequest } from "./generated/metrics-collect-request.js";
export type { KubeconfigReply } from "./generated/kubeconfig-reply.js";
export type { KubeconfigRequest } from "./generated/kubeconfig-request.js";
export type { RenderReply } from "./generated/render-reply.js";
export type { RenderRequest } from "./generated/render-request.js";
