import express, { type NextFunction, type Request, type Response } from "express";
import { join } from "node:path";
import type { Logger } from "@kubeplus/runtime";
import type { Apiserver } from "./apiserver.js";
import {
  catalogKinds,
  COMPOSITION_GROUP,
  INSTANCE_GROUP,
  verbsOn,
  type Catalog,
  type DiscoveredResource,
  type PolicyRule,
} from "./catalog.js";
import { CredentialError, readKubeconfig, type SignInIdentity } from "./credentials.js";
import { decidePassthrough, PASSTHROUGH_PREFIX, safeResponseType } from "./passthrough.js";
import { csrfMatches, type Session, type SessionStore, type User } from "./sessions.js";

export const SESSION_COOKIE = "kubeplus_console";
export const CSRF_HEADER = "x-csrf-token";

/** The page's policy: its own scripts, styles and API only; nothing inline, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join("; ");
/** Answers passed through from the apiserver are data: a browser that opens one directly runs nothing of it. */
const PASSTHROUGH_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'";

export interface ConsoleDeps {
  readonly apiserver: Apiserver;
  readonly sessions: SessionStore;
  readonly webDir: string;
  readonly secureCookies: boolean;
  readonly log: Logger;
  /** Counts sign-ins: "accepted" or "refused". */
  readonly onSignIn?: (result: "accepted" | "refused") => void;
}

interface SelfSubjectReview {
  status?: { userInfo?: { username?: string; groups?: string[] } };
}
interface ApiStatus {
  message?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return undefined;
}

function sessionCookie(id: string, secure: boolean, maxAgeSeconds?: number): string {
  return [
    `${SESSION_COOKIE}=${id}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    ...(secure ? ["Secure"] : []),
    ...(maxAgeSeconds === undefined ? [] : [`Max-Age=${String(maxAgeSeconds)}`]),
  ].join("; ");
}

/** Answers with `{message}`. */
const fail = (res: Response, status: number, message: string): void => {
  res.status(status).json({ message });
};

function sessionBody(session: Session): Record<string, unknown> {
  return { user: session.user, namespace: session.namespace, csrfToken: session.csrfToken };
}

/** The request came from a page of this console (or from no browser page at all). */
function sameOrigin(req: Request): boolean {
  const origin = req.get("origin");
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.get("host");
  } catch {
    return false;
  }
}

function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.set({
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
  });
  next();
}

/**
 * The console's HTTP app. Holds no Kubernetes rights: every apiserver request carries the signed-in user's own
 * credential, kept in this process's memory (the browser holds only a session id in an HttpOnly, SameSite=Strict
 * cookie). Every change needs the session's CSRF token in a header and a same-origin `Origin`.
 */
export function createConsoleApp(deps: ConsoleDeps): express.Express {
  const { sessions } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(securityHeaders);

  const current = (req: Request): Session | undefined =>
    sessions.get(cookieValue(req.get("cookie"), SESSION_COOKIE));

  app.use("/api", (req: Request, res: Response, next: NextFunction) => {
    res.set("cache-control", "no-store");
    const refusal = changeRefusal(req, current(req));
    if (refusal) {
      fail(res, refusal.status, refusal.message);
      return;
    }
    next();
    return undefined;
  });

  app.post(
    "/api/session",
    express.json({ limit: "128kb" }),
    async (req: Request, res: Response) => {
      await signIn(deps, req, res);
    },
  );

  app.get("/api/session", (req, res) => {
    const session = current(req);
    if (!session) {
      fail(res, 401, "not signed in");
      return;
    }
    res.json(sessionBody(session));
    return undefined;
  });

  app.delete("/api/session", (req, res) => {
    const session = current(req);
    if (session) {
      sessions.delete(session.id);
      deps.log.info({ user: session.user.username }, "signed out");
    }
    res.set("set-cookie", sessionCookie("", deps.secureCookies, 0));
    res.status(204).end();
  });

  app.get("/api/catalog", async (req, res) => {
    const session = current(req);
    if (!session) {
      fail(res, 401, "not signed in");
      return;
    }
    const namespace =
      typeof req.query.namespace === "string" ? req.query.namespace : session.namespace;
    if (!DNS_LABEL.test(namespace)) {
      fail(res, 400, `'${namespace}' is not a namespace name`);
      return;
    }
    const catalog = await readCatalog(deps.apiserver, session, namespace);
    if ("unauthenticated" in catalog) {
      sessions.delete(session.id);
      fail(res, 401, "the apiserver no longer accepts this session's credential: sign in again");
      return;
    }
    res.json(catalog);
    return undefined;
  });

  app.all(`${PASSTHROUGH_PREFIX}/*rest`, async (req, res) => {
    const session = current(req);
    if (!session) {
      fail(res, 401, "not signed in");
      return;
    }
    await passThrough(deps, session, req, res);
    return undefined;
  });

  app.use("/api", (_req, res) => {
    fail(res, 404, "no such console API; see services/console/README.md");
  });

  app.use(express.static(deps.webDir, { index: "index.html", maxAge: "1h" }));
  // The app's own routes (/kinds/..., /instances/...) are pages of the single-page app.
  app.get("/*page", (_req, res) => {
    res.set("cache-control", "no-cache");
    res.sendFile(join(deps.webDir, "index.html"));
  });

  app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.log.error({ err }, "console request failed");
    if (!res.headersSent) fail(res, 500, "the console failed on this request; see its log");
  });
  return app;
}

/** Why a request that changes something is refused (cross-origin, not signed in, no CSRF token), if it is. */
function changeRefusal(
  req: Request,
  session: Session | undefined,
): { status: number; message: string } | undefined {
  if (req.method === "GET" || req.method === "HEAD") return undefined;
  if (!sameOrigin(req)) return { status: 403, message: "cross-origin requests are refused" };
  if (req.method === "POST" && req.path === "/session") return undefined;
  if (!session) return { status: 401, message: "sign in first" };
  if (!csrfMatches(session, req.get(CSRF_HEADER)))
    return {
      status: 403,
      message: `a change needs the session's CSRF token in the ${CSRF_HEADER} header`,
    };
  return undefined;
}

const REFUSED_CREDENTIAL =
  "the apiserver did not accept this kubeconfig's credential: its token expired or was revoked, or the kubeconfig is for another cluster; ask your provider for a fresh one";

/** The identity a sign-in request's kubeconfig gives, or why there is none. */
function identityOf(body: unknown): SignInIdentity | { refusal: string } {
  const { kubeconfig, context } = (body ?? {}) as { kubeconfig?: unknown; context?: unknown };
  if (typeof kubeconfig !== "string" || kubeconfig.trim() === "")
    return { refusal: "paste or upload a kubeconfig to sign in" };
  try {
    return readKubeconfig(kubeconfig, typeof context === "string" ? context : undefined);
  } catch (err) {
    if (err instanceof CredentialError) return { refusal: err.message };
    throw err;
  }
}

function userOf(review: SelfSubjectReview): User {
  const info = review.status?.userInfo ?? {};
  return { username: info.username ?? "(unknown)", groups: info.groups ?? [] };
}

/** Signs a user in with a kubeconfig: its credential is kept only if the apiserver accepts it. */
async function signIn(deps: ConsoleDeps, req: Request, res: Response): Promise<void> {
  const identity = identityOf(req.body);
  if ("refusal" in identity) {
    deps.onSignIn?.("refused");
    fail(res, 400, identity.refusal);
    return;
  }
  const review = await deps.apiserver.json<SelfSubjectReview & ApiStatus>(
    identity.credential,
    "POST",
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  );
  if (review.status === 401) {
    deps.onSignIn?.("refused");
    deps.log.info(
      { context: identity.context },
      "sign-in refused: the apiserver did not accept the credential",
    );
    fail(res, 401, REFUSED_CREDENTIAL);
    return;
  }
  if (review.status !== 201 && review.status !== 200) {
    fail(
      res,
      502,
      `the apiserver could not say who this is: ${review.body.message ?? String(review.status)}`,
    );
    return;
  }
  const session = deps.sessions.create({
    credential: identity.credential,
    user: userOf(review.body),
    namespace: identity.namespace,
  });
  deps.onSignIn?.("accepted");
  deps.log.info({ user: session.user.username, namespace: session.namespace }, "signed in");
  res.set("set-cookie", sessionCookie(session.id, deps.secureCookies));
  res.status(201).json(sessionBody(session));
}

/** One request of the web app to the apiserver, as the user, streamed both ways (watches and logs follow). */
async function passThrough(
  deps: ConsoleDeps,
  session: Session,
  req: Request,
  res: Response,
): Promise<void> {
  const raw = req.originalUrl.slice(PASSTHROUGH_PREFIX.length);
  const queryAt = raw.indexOf("?");
  const decision = decidePassthrough(
    req.method,
    queryAt < 0 ? raw : raw.slice(0, queryAt),
    queryAt < 0 ? "" : raw.slice(queryAt + 1),
    req.get("content-type"),
  );
  if (!decision.pass) {
    fail(res, decision.status, decision.message);
    return;
  }
  const aborted = new AbortController();
  res.on("close", () => {
    aborted.abort();
  });
  const contentType = req.get("content-type");
  let upstream;
  try {
    upstream = await deps.apiserver.request(session.credential, {
      method: req.method,
      path: decision.path,
      headers: contentType ? { "content-type": contentType } : {},
      ...(req.method === "GET" || req.method === "DELETE" ? {} : { body: req }),
      signal: aborted.signal,
    });
  } catch (err) {
    if (aborted.signal.aborted) return undefined;
    deps.log.warn({ err, path: decision.path }, "apiserver request failed");
    fail(res, 502, `the apiserver could not be reached: ${(err as Error).message}`);
    return;
  }
  if (upstream.statusCode === 401) {
    deps.sessions.delete(session.id);
    deps.log.info(
      { user: session.user.username },
      "session ended: the apiserver no longer accepts its credential",
    );
  }
  res.status(upstream.statusCode ?? 502);
  res.set({
    "content-type": safeResponseType(upstream.headers["content-type"]),
    "content-security-policy": PASSTHROUGH_POLICY,
  });
  // A watch or a followed log sends nothing until something happens: the page gets its answer's head at once.
  res.flushHeaders();
  upstream.pipe(res);
  upstream.on("error", () => {
    res.destroy();
  });
  return undefined;
}

/** The catalog of one namespace as the user's own rules and the apiserver's discovery documents make it. */
async function readCatalog(
  apiserver: Apiserver,
  session: Session,
  namespace: string,
): Promise<Catalog | { unauthenticated: true }> {
  const creds = session.credential;
  const review = await apiserver.json<{ status?: { resourceRules?: PolicyRule[] } }>(
    creds,
    "POST",
    "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
    { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", spec: { namespace } },
  );
  if (review.status === 401) return { unauthenticated: true };
  const rules = review.body.status?.resourceRules ?? [];
  const group = await apiserver.json<{ versions?: { version: string }[] }>(
    creds,
    "GET",
    `/apis/${INSTANCE_GROUP}`,
  );
  const kinds = [];
  for (const { version } of group.status === 200 ? (group.body.versions ?? []) : []) {
    const list = await apiserver.json<{ resources?: DiscoveredResource[] }>(
      creds,
      "GET",
      `/apis/${INSTANCE_GROUP}/${version}`,
    );
    const openapi = await apiserver.json<Record<string, unknown>>(
      creds,
      "GET",
      `/openapi/v3/apis/${INSTANCE_GROUP}/${version}`,
    );
    kinds.push(
      ...catalogKinds({
        group: INSTANCE_GROUP,
        version,
        resources: list.status === 200 ? (list.body.resources ?? []) : [],
        rules,
        openapi: openapi.status === 200 ? openapi.body : {},
      }),
    );
  }
  return {
    namespace,
    kinds,
    compositions: verbsOn(rules, COMPOSITION_GROUP, "resourcecompositions").includes("list"),
  };
}
