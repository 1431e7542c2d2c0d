import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import {
  headers,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/nats-core";
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapGetter,
} from "@opentelemetry/api";
import { ContractError, ErrorCode } from "./errors.js";
import {
  Subjects,
  type EventSubject,
  type ReplyOf,
  type RequestOf,
  type RequestSubject,
  type SubjectName,
} from "./subjects.js";

/** The wire envelope of every reply: a result or a typed error, never a thrown exception. */
type Envelope<T> =
  { ok: true; data: T } | { ok: false; error: { code: ErrorCode; message: string } };

// verbose: errors carry the value and its schema, so that a limit's refusal can say what was asked and what it means.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, keywords: ["tsType"] });
const validators = new Map<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let v = validators.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    validators.set(schema, v);
  }
  return v;
}

const LIMITS: Record<string, string> = {
  maximum: "exceeds the maximum of",
  exclusiveMaximum: "must be less than",
  minimum: "is below the minimum of",
  exclusiveMinimum: "must be more than",
};

/** One schema problem, in words: a number over (or under) its limit names the limit and what the field means. */
export function describeProblem(e: ErrorObject): string {
  const path = e.instancePath || "/";
  const limit = LIMITS[e.keyword];
  if (!limit) return `${path} ${e.message ?? ""}`;
  const description = (e.parentSchema as { description?: unknown } | undefined)?.description;
  const about = typeof description === "string" ? ` (${description})` : "";
  return `${path} ${JSON.stringify(e.data)} ${limit} ${String((e.params as { limit?: unknown }).limit)}${about}`;
}

/** Checks a payload against its message schema; throws a BadRequest ContractError listing every problem. */
export function validatePayload(schema: object, payload: unknown, what: string): void {
  const validate = validatorFor(schema);
  if (!validate(payload)) {
    const problems = (validate.errors ?? []).map(describeProblem);
    throw new ContractError(ErrorCode.BadRequest, `invalid ${what}: ${problems.join("; ")}`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

function decode(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data)) as unknown;
  } catch (err) {
    throw new ContractError(ErrorCode.BadRequest, "payload is not JSON", { cause: err });
  }
}

/** Nobody serves the subject: the client's own error (nats.js wraps it in a RequestError), never its message text. */
const isNoResponders = (err: unknown): boolean =>
  err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders());

const isTimeout = (err: unknown): boolean => err instanceof TimeoutError;

// Tracing (OpenTelemetry API only; a service registers the SDK through @kubeplus/runtime, or nothing): each request,
// reply, publication and delivery is a span, and the sender's trace context travels in the message's headers (W3C
// `traceparent`), so that the receiver's span is the sender's child. Without a registered SDK every span is a no-op
// and no header is added.
const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer("@kubeplus/contracts");

/**
 * Whether a service registered the SDK (startTracing registers a propagator with it; the API's default propagates
 * no field): while it has not, a request or a publication is sent exactly as without tracing.
 */
const tracing = (): boolean => propagation.fields().length > 0;

/** OpenTelemetry's messaging attributes of one NATS operation. */
const messaging = (subject: string, operation: "send" | "process"): Record<string, string> => ({
  "messaging.system": "nats",
  "messaging.destination.name": subject,
  "messaging.operation.type": operation,
});

/** Adds the trace context of `ctx` to `h` (creating headers only when there is a context to carry). */
function withTraceContext(ctx: Context, h: MsgHdrs | undefined): MsgHdrs | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const entries = Object.entries(carrier);
  if (entries.length === 0) return h;
  const out = h ?? headers();
  for (const [k, v] of entries) out.set(k, v);
  return out;
}

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (h) => h?.keys() ?? [],
  get: (h, key) => h?.get(key) ?? undefined,
};

/** The sender's trace context, from a message's headers (the root context when it carries none). */
const senderContext = (msg: Msg): Context =>
  propagation.extract(ROOT_CONTEXT, msg.headers, headerGetter);

function failed(span: Span, err: unknown): void {
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: err instanceof Error ? err.message : String(err),
  });
}

/**
 * The header in which a caller names itself. Anyone allowed to publish a subject can write any name here, so servers
 * log it as *claimed*: the server's per-user publish permissions, not this header, decide who may ask.
 */
export const REQUESTER_HEADER = "KubePlus-Requester";

/** What a server knows of a request besides its payload. */
export interface RequestMeta {
  /** The caller's name from {@link REQUESTER_HEADER}, as the caller claims it (not verified). */
  readonly claimedRequester?: string;
  /**
   * The caller's connection, from its reply subject (`_INBOX.<connection>.<request>` becomes `_INBOX.<connection>`):
   * the same for every request of one NATS connection.
   */
  readonly caller: string;
}

/** Sends a request and returns the validated reply; transport failures become Unavailable/Timeout errors. */
export function request<S extends RequestSubject>(
  nc: NatsConnection,
  name: S,
  payload: RequestOf<S>,
  options: { timeoutMs: number; requester?: string },
): Promise<ReplyOf<S>> {
  const def = Subjects[name];
  if (!tracing()) return sendRequest(nc, name, payload, options);
  return tracer().startActiveSpan(
    `request ${def.subject}`,
    { kind: SpanKind.CLIENT, attributes: messaging(def.subject, "send") },
    async (span) => {
      try {
        return await sendRequest(nc, name, payload, options);
      } catch (err) {
        failed(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

async function sendRequest<S extends RequestSubject>(
  nc: NatsConnection,
  name: S,
  payload: RequestOf<S>,
  options: { timeoutMs: number; requester?: string },
): Promise<ReplyOf<S>> {
  const def = Subjects[name];
  validatePayload(def.requestSchema, payload, `${def.subject} request`);
  let msg: Msg;
  try {
    let h: MsgHdrs | undefined;
    if (options.requester) {
      h = headers();
      h.set(REQUESTER_HEADER, options.requester);
    }
    h = withTraceContext(context.active(), h);
    msg = await nc.request(def.subject, encode(payload), {
      timeout: options.timeoutMs,
      ...(h ? { headers: h } : {}),
    });
  } catch (err) {
    throw requestError(def, err, options.timeoutMs);
  }
  const envelope = decode(msg.data) as Envelope<unknown>;
  if (!envelope.ok) throw new ContractError(envelope.error.code, envelope.error.message);
  validatePayload(def.replySchema, envelope.data, `${def.subject} reply`);
  return envelope.data as ReplyOf<S>;
}

/** A transport failure of a request, as a typed error. */
function requestError(
  def: { subject: string; queue: string },
  err: unknown,
  timeoutMs: number,
): ContractError {
  if (isNoResponders(err))
    return new ContractError(
      ErrorCode.Unavailable,
      `no ${def.queue} is answering on ${def.subject}`,
      {
        cause: err,
      },
    );
  if (isTimeout(err))
    return new ContractError(
      ErrorCode.Timeout,
      `${def.subject} did not answer within ${String(timeoutMs)} ms`,
      { cause: err },
    );
  return new ContractError(ErrorCode.Unavailable, `${def.subject}: ${String(err)}`, { cause: err });
}

/**
 * Serves a request/reply subject in its queue group: validates each request, calls the handler and always replies
 * with an envelope (errors become `{ok:false}` with a code, never a dropped request).
 */
/** The caller of a request, from its reply subject: everything but the last token. */
export function callerOf(reply: string | undefined): string {
  if (!reply) return "";
  const cut = reply.lastIndexOf(".");
  return cut > 0 ? reply.slice(0, cut) : reply;
}

export function serve<S extends RequestSubject>(
  nc: NatsConnection,
  name: S,
  handler: (req: RequestOf<S>, meta: RequestMeta) => Promise<ReplyOf<S>>,
  onError: (err: unknown, meta?: RequestMeta) => void = () => undefined,
): Subscription {
  const def = Subjects[name];
  const answer = async (msg: Msg, span: Span): Promise<void> => {
    let reply: Envelope<ReplyOf<S>>;
    const claimed = msg.headers?.get(REQUESTER_HEADER);
    const meta: RequestMeta = {
      caller: callerOf(msg.reply),
      ...(claimed ? { claimedRequester: claimed } : {}),
    };
    try {
      const req = decode(msg.data);
      validatePayload(def.requestSchema, req, `${def.subject} request`);
      reply = { ok: true, data: await handler(req as RequestOf<S>, meta) };
    } catch (e) {
      onError(e, meta);
      failed(span, e);
      const code = e instanceof ContractError ? e.code : ErrorCode.Internal;
      reply = {
        ok: false,
        error: { code, message: e instanceof Error ? e.message : String(e) },
      };
    }
    msg.respond(encode(reply));
  };
  return nc.subscribe(def.subject, {
    queue: def.queue,
    callback: (err, msg) => {
      if (err) {
        onError(err);
        return;
      }
      void tracer().startActiveSpan(
        `process ${def.subject}`,
        { kind: SpanKind.SERVER, attributes: messaging(def.subject, "process") },
        senderContext(msg),
        (span) => answer(msg, span).finally(() => span.end()),
      );
    },
  });
}

/** Publishes an event (a reconcile request: consumers re-read the object it names). */
export function publish<S extends EventSubject>(
  nc: NatsConnection,
  name: S,
  payload: RequestOf<S>,
): void {
  const def = Subjects[name];
  validatePayload(def.requestSchema, payload, `${def.subject} event`);
  if (!tracing()) {
    nc.publish(def.subject, encode(payload));
    return;
  }
  const span = tracer().startSpan(`publish ${def.subject}`, {
    kind: SpanKind.PRODUCER,
    attributes: messaging(def.subject, "send"),
  });
  try {
    const h = withTraceContext(trace.setSpan(context.active(), span), undefined);
    nc.publish(def.subject, encode(payload), h ? { headers: h } : undefined);
  } catch (err) {
    failed(span, err);
    throw err;
  } finally {
    span.end();
  }
}

/** Subscribes to an event subject; invalid payloads are reported to `onError` and skipped. */
export function subscribe<S extends EventSubject>(
  nc: NatsConnection,
  name: S,
  handler: (event: RequestOf<S>) => void,
  onError: (err: unknown) => void = () => undefined,
): Subscription {
  const def = Subjects[name];
  const deliver = (msg: Msg, span: Span): void => {
    try {
      const event = decode(msg.data);
      validatePayload(def.requestSchema, event, `${def.subject} event`);
      handler(event as RequestOf<S>);
    } catch (e) {
      failed(span, e);
      onError(e);
    } finally {
      span.end();
    }
  };
  return nc.subscribe(def.subject, {
    callback: (err, msg) => {
      if (err) {
        onError(err);
        return;
      }
      tracer().startActiveSpan(
        `process ${def.subject}`,
        { kind: SpanKind.CONSUMER, attributes: messaging(def.subject, "process") },
        senderContext(msg),
        (span) => {
          deliver(msg, span);
        },
      );
    },
  });
}

export type { SubjectName };
