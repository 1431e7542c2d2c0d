import express, { type Express, type Request, type Response } from "express";
import {
  contextFromTraceparent,
  inSpan,
  secondsSince,
  SpanKind,
  tracingEnabled,
  Verdict,
  type AdmissionMetrics,
  type Logger,
} from "@kubeplus/runtime";
import { admittedTraceparent, type AdmitResult } from "./admission/admit.js";
import type { AdmissionRequest, AdmissionReview } from "./admission/review.js";

export interface Handlers {
  validate(req: AdmissionRequest): Promise<AdmitResult>;
  mutate(req: AdmissionRequest): Promise<AdmitResult> | AdmitResult;
  /** Called with each allowed result (publishing admitted events). */
  afterAdmit(result: AdmitResult): void;
  ready(): boolean;
}

export interface ServerOptions {
  /** Answer every review within this, below the webhooks' timeoutSeconds. */
  readonly deadlineMs: number;
  readonly log: Logger;
  /** Each review's duration and verdict, by webhook and kind. */
  readonly metrics?: AdmissionMetrics;
}

class DeadlineError extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`no decision within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function reviewOf(body: unknown): AdmissionRequest | undefined {
  const review = body as Partial<AdmissionReview> | undefined;
  return review?.request && typeof review.request.uid === "string" ? review.request : undefined;
}

/**
 * The HTTP adapter: parses AdmissionReview v1, copies the uid, bounds each decision by a deadline, and turns an
 * unexpected failure into an explicit, logged denial with code 500 (the webhooks fail closed, as documented).
 */
export function createApp(handlers: Handlers, options: ServerOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "2mb", type: ["application/json"] }));

  /**
   * The parent of a review's span: the apiserver's trace when it sends one (its APIServerTracing), else, for the
   * validating webhook, the traceparent the mutating webhook recorded in this very request, so that one object's
   * admission is one trace.
   */
  const parentOf = (name: "validate" | "mutate", req: Request, request: AdmissionRequest) => {
    const header = req.headers.traceparent;
    if (typeof header === "string") return contextFromTraceparent(header);
    return contextFromTraceparent(name === "validate" ? admittedTraceparent(request) : undefined);
  };

  const route = (name: "validate" | "mutate") => async (req: Request, res: Response) => {
    const request = reviewOf(req.body);
    if (!request) {
      res
        .status(400)
        .json({ error: "expected an AdmissionReview (admission.k8s.io/v1) with a request" });
      return;
    }
    // Tracing off (the default): the review exactly as without tracing, not even a no-op span.
    const response = tracingEnabled()
      ? await inSpan(
          `admission ${request.kind.kind}`,
          {
            kind: SpanKind.SERVER,
            parent: parentOf(name, req, request),
            attributes: {
              "kubeplus.admission.webhook": name,
              "kubeplus.admission.operation": request.operation,
              "kubeplus.kind": request.kind.kind,
              "k8s.namespace.name": request.namespace ?? "",
              "kubeplus.name": request.name ?? "",
            },
          },
          async (span) => {
            const answer = await review(name, request);
            span.setAttribute("kubeplus.admission.allowed", answer.allowed);
            return answer;
          },
        )
      : await review(name, request);
    res.json({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response });
  };

  /** One review, decided within the deadline; an allowed one is followed by its event. */
  const review = async (
    name: "validate" | "mutate",
    request: AdmissionRequest,
  ): Promise<AdmitResult["response"]> => {
    // A child logger per review costs more than the review itself at 200 req/s: build it only when it is used.
    const log = (): Logger =>
      options.log.child({
        admissionUid: request.uid,
        operation: request.operation,
        kind: request.kind.kind,
        name: request.name,
        namespace: request.namespace,
      });
    const started = Date.now();
    const startedAt = performance.now();
    let result: AdmitResult;
    let failed = false;
    try {
      result = await withDeadline(Promise.resolve(handlers[name](request)), options.deadlineMs);
    } catch (err) {
      const timedOut = err instanceof DeadlineError;
      log().error(
        { err, webhook: name },
        timedOut ? "admission deadline exceeded" : "admission failed",
      );
      const message = timedOut
        ? `crd-hook could not decide within ${options.deadlineMs} ms; retry`
        : `crd-hook failed: ${err instanceof Error ? err.message : String(err)}; retry, and see the crd-hook log if it persists`;
      result = { response: { uid: request.uid, allowed: false, status: { code: 500, message } } };
      failed = true;
    }
    options.metrics?.reviewed(
      { webhook: name, kind: request.kind.kind, operation: request.operation },
      failed ? Verdict.Error : result.response.allowed ? Verdict.Allowed : Verdict.Denied,
      secondsSince(startedAt),
    );
    if (result.response.allowed) handlers.afterAdmit(result);
    if (options.log.isLevelEnabled("debug"))
      log().debug(
        { webhook: name, allowed: result.response.allowed, durationMs: Date.now() - started },
        "admission reviewed",
      );
    return result.response;
  };

  app.post("/validate", (req, res) => void route("validate")(req, res));
  app.post("/mutate", (req, res) => void route("mutate")(req, res));
  app.get("/healthz", (_req, res) => {
    res.send("ok");
  });
  app.get("/readyz", (_req, res) => {
    if (handlers.ready()) res.send("ok");
    else res.status(503).send("starting");
  });
  return app;
}
