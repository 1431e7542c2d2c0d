/**
 * Every request the app makes, in one place (the console's contract: /api/session, /api/catalog, and /api/k8s/<path>
 * passed to the apiserver with the signed-in user's credentials). Same origin, the session cookie sent by the
 * browser, the CSRF token (kept in memory only, never in browser storage) on every change. A 401 anywhere but the
 * sign-in itself ends the session: the app goes back to the sign-in page.
 */
import type { JsonSchema } from "./schema-form.js";
import { LineSplitter, parseWatchLine, type Listed, type WatchEvent } from "./watch.js";

export interface Session {
  readonly user: { readonly username: string; readonly groups: readonly string[] };
  readonly namespace: string;
  readonly csrfToken: string;
}

export interface CatalogKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly description: string;
  readonly verbs: readonly string[];
  /** The openAPIV3Schema of the kind's .spec (absent when the console could not read it: the form takes JSON). */
  readonly schema?: JsonSchema;
}

export interface Catalog {
  readonly namespace: string;
  readonly kinds: readonly CatalogKind[];
  /** The user may list ResourceCompositions in the namespace: a provider. */
  readonly compositions: boolean;
}

export interface KubeList<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items?: readonly T[];
}

/** An answer other than 2xx: its status code and body (a Kubernetes Status, or the console's {message}). */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(messageOf(status, body));
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

function messageOf(status: number, body: unknown): string {
  if (typeof body === "object" && body !== null && "message" in body) {
    const m = (body as { message?: unknown }).message;
    if (typeof m === "string" && m) return m;
  }
  return `the console answered ${status}`;
}

const e = encodeURIComponent;

/** The apiserver path of a kind's instances in a namespace (and of one instance). */
export function instancesPath(kind: CatalogKind, namespace: string, name?: string): string {
  const base = `/apis/${e(kind.group)}/${e(kind.version)}/namespaces/${e(namespace)}/${e(kind.plural)}`;
  return name === undefined ? base : `${base}/${e(name)}`;
}

/** The apiserver path of a core (v1) or group resource in a namespace. */
export function resourcePath(
  gv: { readonly group: string; readonly version: string },
  plural: string,
  namespace: string,
): string {
  const prefix = gv.group ? `/apis/${e(gv.group)}/${e(gv.version)}` : `/api/${e(gv.version)}`;
  return `${prefix}/namespaces/${e(namespace)}/${e(plural)}`;
}

/** A query string from these parameters (undefined ones left out), with its leading `?` when not empty. */
export function query(params: Readonly<Record<string, string | undefined>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export class Api {
  private csrfToken = "";
  private readonly onSignedOut: () => void;
  private readonly fetcher: Fetch;

  constructor(onSignedOut: () => void, fetcher: Fetch = (i, init) => fetch(i, init)) {
    this.onSignedOut = onSignedOut;
    this.fetcher = fetcher;
  }

  /** The current session, or undefined when there is none (the sign-in page). */
  async session(): Promise<Session | undefined> {
    const res = await this.fetcher("/api/session", { credentials: "same-origin" });
    if (res.status === 401) return undefined;
    const s = (await this.json(res)) as Session;
    this.csrfToken = s.csrfToken;
    return s;
  }

  /** Signs in with a kubeconfig's text (sent once, here; the app keeps no copy). */
  async signIn(kubeconfig: string, context?: string): Promise<Session> {
    const res = await this.fetcher("/api/session", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(context ? { kubeconfig, context } : { kubeconfig }),
    });
    const s = (await this.json(res, false)) as Session;
    this.csrfToken = s.csrfToken;
    return s;
  }

  async signOut(): Promise<void> {
    const res = await this.fetcher("/api/session", {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": this.csrfToken },
    });
    this.csrfToken = "";
    if (!res.ok && res.status !== 401) throw new ApiError(res.status, await bodyOf(res));
  }

  async catalog(namespace: string): Promise<Catalog> {
    return (await this.request("GET", `/api/catalog${query({ namespace })}`)) as Catalog;
  }

  /** GET of an apiserver path (and query). */
  async get<T>(path: string): Promise<T> {
    return (await this.request("GET", `/api/k8s${path}`)) as T;
  }

  async create<T>(path: string, object: unknown): Promise<T> {
    return (await this.request("POST", `/api/k8s${path}`, object)) as T;
  }

  async replace<T>(path: string, object: unknown): Promise<T> {
    return (await this.request("PUT", `/api/k8s${path}`, object)) as T;
  }

  async remove(path: string): Promise<void> {
    await this.request("DELETE", `/api/k8s${path}`);
  }

  /**
   * Watches a list path from a resourceVersion, calling `onEvent` for each event until it returns "stop", the
   * stream ends, or `signal` aborts. Resolves when the watch is over (then the caller lists again).
   */
  async watch<T extends Listed>(
    path: string,
    params: Readonly<Record<string, string | undefined>>,
    onEvent: (event: WatchEvent<T>) => "stop" | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const url = `/api/k8s${path}${query({ ...params, watch: "true", allowWatchBookmarks: "true" })}`;
    const res = await this.fetcher(url, { credentials: "same-origin", signal });
    if (!res.ok) await this.fail(res);
    const splitter = new LineSplitter();
    await readText(res, signal, (text, done) => {
      const lines = done ? [...splitter.push(text), ...splitter.end()] : splitter.push(text);
      for (const line of lines) {
        const event = parseWatchLine<T>(line);
        if (event && onEvent(event) === "stop") return "stop";
      }
      return undefined;
    });
  }

  /** Follows a container's log (text/plain), giving each piece of text as it arrives, until `signal` aborts. */
  async followLog(
    target: { readonly namespace: string; readonly pod: string; readonly container: string },
    onText: (text: string) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const { namespace, pod, container } = target;
    const path = `/api/v1/namespaces/${e(namespace)}/pods/${e(pod)}/log`;
    const url = `/api/k8s${path}${query({ container, follow: "true", tailLines: "200" })}`;
    const res = await this.fetcher(url, { credentials: "same-origin", signal });
    if (!res.ok) await this.fail(res);
    await readText(res, signal, (text) => {
      if (text) onText(text);
      return undefined;
    });
  }

  private async request(method: string, url: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = {};
    if (method !== "GET") headers["X-CSRF-Token"] = this.csrfToken;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await this.fetcher(url, {
      method,
      credentials: "same-origin",
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return this.json(res);
  }

  private async json(res: Response, signOutOn401 = true): Promise<unknown> {
    if (!res.ok) await this.fail(res, signOutOn401);
    return res.status === 204 ? undefined : bodyOf(res);
  }

  private async fail(res: Response, signOutOn401 = true): Promise<never> {
    const body = await bodyOf(res);
    if (res.status === 401 && signOutOn401) {
      this.csrfToken = "";
      this.onSignedOut();
    }
    throw new ApiError(res.status, body);
  }
}

async function bodyOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.trim() || res.statusText };
  }
}

async function readText(
  res: Response,
  signal: AbortSignal,
  onText: (text: string, done: boolean) => "stop" | undefined,
): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      if (signal.aborted) return;
      const { done, value } = await reader.read();
      const text = done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (onText(text, done) === "stop" || done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
