import {
  Annotations,
  PLATFORM_GROUP,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";
import type { CompositionAdmitted, InstanceAdmitted } from "@kubeplus/contracts";
import { recordAccountIdentity, recordTraceparent } from "./mutate.js";
import { diffToPatch } from "./patch.js";
import { toResponse, type AdmissionRequest, type AdmissionResponse } from "./review.js";
import { validateComposition, type CompositionDeps } from "@kubeplus/admission";
import {
  validateCompositionDelete,
  type CompositionDeleteDeps,
} from "./validate-composition-delete.js";
import { validateInstance, type InstanceDeps } from "./validate-instance.js";

export interface AdmitDeps extends CompositionDeps, InstanceDeps, CompositionDeleteDeps {
  /** The composition that registered a generated kind, from the watched cache. */
  compositionFor(group: string, kind: string): ResourceComposition | undefined;
}

/**
 * What the adapter publishes after an admitted create or update: a composition's is a reconcile hint for the helmer;
 * an instance's is for the provider's own tools (docs/architecture.md, events for outside subscribers).
 */
export type AdmittedEvent =
  | { type: "composition"; payload: CompositionAdmitted }
  | { type: "instance"; payload: InstanceAdmitted };

export interface AdmitResult {
  readonly response: AdmissionResponse;
  readonly event?: AdmittedEvent;
}

const allow = (uid: string): AdmitResult => ({ response: { uid, allowed: true } });

function eventFor(
  req: AdmissionRequest,
  group: string,
): Omit<CompositionAdmitted, "operation"> & { operation: "CREATE" | "UPDATE" } {
  const meta = (req.object?.metadata ?? {}) as {
    uid?: string;
    generation?: number;
    name?: string;
    namespace?: string;
  };
  return {
    version: 1,
    operation: req.operation === "UPDATE" ? "UPDATE" : "CREATE",
    group,
    apiVersion: `${req.kind.group}/${req.kind.version}`,
    kind: req.kind.kind,
    namespace: req.namespace ?? meta.namespace ?? "",
    name: req.name ?? meta.name ?? "",
    ...(meta.uid ? { uid: meta.uid } : {}),
    ...(meta.generation !== undefined ? { generation: meta.generation } : {}),
    ...(req.userInfo.username ? { user: req.userInfo.username } : {}),
  };
}

function isWrite(
  req: AdmissionRequest,
): req is AdmissionRequest & { operation: "CREATE" | "UPDATE" } {
  return (
    (req.operation === "CREATE" || req.operation === "UPDATE") && !!req.object && !req.subResource
  );
}

async function validateCompositionRequest(
  req: AdmissionRequest & { operation: "CREATE" | "UPDATE" },
  deps: AdmitDeps,
): Promise<AdmitResult> {
  const rc = req.object as unknown as ResourceComposition;
  const old =
    req.operation === "UPDATE"
      ? ((req.oldObject ?? undefined) as ResourceComposition | undefined)
      : undefined;
  const result = await validateComposition(rc, old, req.userInfo, deps);
  const response = toResponse(req.uid, result, `ResourceComposition ${rc.metadata.name ?? ""}`);
  if (!response.allowed || req.dryRun) return { response };
  return { response, event: { type: "composition", payload: eventFor(req, req.kind.group) } };
}

async function validateDelete(req: AdmissionRequest, deps: AdmitDeps): Promise<AdmitResult> {
  const isComposition =
    req.kind.group === PLATFORM_GROUP &&
    req.kind.kind === "ResourceComposition" &&
    !req.subResource;
  if (!isComposition || !req.oldObject) return allow(req.uid);
  const message = await validateCompositionDelete(
    req.oldObject as unknown as ResourceComposition,
    deps,
  );
  if (!message) return allow(req.uid);
  return {
    response: { uid: req.uid, allowed: false, status: { code: 409, reason: "Conflict", message } },
  };
}

/** The validating webhook: compositions and instances of generated kinds; everything else passes. */
export async function validate(req: AdmissionRequest, deps: AdmitDeps): Promise<AdmitResult> {
  if (req.operation === "DELETE") return validateDelete(req, deps);
  if (!isWrite(req)) return allow(req.uid);
  const { group, kind } = req.kind;
  if (group === PLATFORM_GROUP) {
    return kind === "ResourceComposition" ? validateCompositionRequest(req, deps) : allow(req.uid);
  }
  const rc = deps.compositionFor(group, kind);
  if (!rc) return allow(req.uid);
  const instance = req.object as unknown as Instance;
  const result = await validateInstance(instance, req.operation, rc, deps);
  const response = toResponse(req.uid, result, `${kind} ${instance.metadata.name ?? ""}`);
  if (!response.allowed || req.dryRun) return { response };
  return { response, event: { type: "instance", payload: eventFor(req, group) } };
}

/** What the mutating webhook knows besides the request. */
export interface MutateContext {
  /** The W3C traceparent of this admission's span, when tracing is on. */
  readonly traceparent?: string;
}

/**
 * The mutating webhook: records the creating user (`accountidentity`) on compositions and instances, and the
 * admission's traceparent on a create or a spec change when tracing is on.
 */
export function mutate(req: AdmissionRequest, ctx: MutateContext = {}): AdmitResult {
  if (!isWrite(req) || !req.object) return allow(req.uid);
  const object = req.object;
  const old = req.oldObject ?? undefined;
  const mutated = recordTraceparent(
    recordAccountIdentity(object, old, req.userInfo.username ?? ""),
    old,
    ctx.traceparent,
  );
  const patch = diffToPatch(object, mutated);
  if (patch.length === 0) return allow(req.uid);
  return {
    response: {
      uid: req.uid,
      allowed: true,
      patchType: "JSONPatch",
      patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
    },
  };
}

const traceparentIn = (o: unknown): string | undefined =>
  (o as { metadata?: { annotations?: Record<string, string> } } | null | undefined)?.metadata
    ?.annotations?.[Annotations.TraceParent];

/**
 * The traceparent this request's mutation recorded (a create's, or an update's that changed it), for the validating
 * webhook to join the same trace; undefined for an older one carried along unchanged.
 */
export function admittedTraceparent(req: AdmissionRequest): string | undefined {
  const now = traceparentIn(req.object);
  if (!now) return undefined;
  return req.operation === "CREATE" || traceparentIn(req.oldObject) !== now ? now : undefined;
}
