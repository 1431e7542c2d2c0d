import { request as httpsRequest, type RequestOptions } from "node:https";
import type { ApiAccess } from "./access.js";

export class KubeRequestError extends Error {
  readonly code: number;
  readonly body: string;

  constructor(code: number, message: string, body: string) {
    super(message);
    this.name = "KubeRequestError";
    this.code = code;
    this.body = body;
  }
}

/** One request to the apiserver with the kubeconfig's credentials; JSON in and out. */
export async function kubeRequest(
  kc: ApiAccess,
  method: string,
  path: string,
  options: {
    body?: unknown;
    contentType?: string;
    accept?: string;
    timeoutMs?: number;
    /** Extra request headers (for example Impersonate-User). */
    headers?: Record<string, string>;
    /** Resolve with the body as text instead of parsing JSON (kubelet metrics through the node proxy). */
    text?: boolean;
  } = {},
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...options.headers,
    accept: options.accept ?? "application/json",
  };
  if (payload !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  const req: RequestOptions = { method, headers };
  await kc.applyToHTTPSOptions(req);
  return new Promise((resolve, reject) => {
    const r = httpsRequest(new URL(path, cluster.server), req, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        const code = res.statusCode ?? 500;
        if (code >= 400) {
          let message = text.slice(0, 500);
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? message;
          } catch {
            // not JSON
          }
          reject(new KubeRequestError(code, `${method} ${path}: ${message}`, text));
          return;
        }
        if (options.text) resolve(text);
        else resolve(text ? (JSON.parse(text) as unknown) : undefined);
      });
    });
    r.on("error", reject);
    r.setTimeout(options.timeoutMs ?? 30_000, () =>
      r.destroy(new Error(`${method} ${path} timed out`)),
    );
    r.end(payload);
  });
}

/**
 * A GET whose body is text (pod logs), streamed: `onChunk` gets each piece as it arrives; resolves when the server
 * ends the response (never, for a followed log, until the caller destroys it through `signal`).
 */
export async function kubeStream(
  kc: ApiAccess,
  path: string,
  onChunk: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const req: RequestOptions = { method: "GET", headers: { accept: "*/*" } };
  await kc.applyToHTTPSOptions(req);
  return new Promise((resolve, reject) => {
    const r = httpsRequest(new URL(path, cluster.server), { ...req, signal }, (res) => {
      const code = res.statusCode ?? 500;
      const errors: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        if (code >= 400) errors.push(c);
        else onChunk(c.toString());
      });
      res.on("end", () => {
        if (code < 400) {
          resolve();
          return;
        }
        const text = Buffer.concat(errors).toString();
        let message = text.slice(0, 500);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not JSON
        }
        reject(new KubeRequestError(code, `GET ${path}: ${message}`, text));
      });
    });
    r.on("error", reject);
    r.end();
  });
}

/** The username the apiserver sees for this kubeconfig (a SelfSubjectReview, allowed to every identity). */
export async function whoAmI(kc: ApiAccess): Promise<string> {
  const review = (await kubeRequest(
    kc,
    "POST",
    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    },
  )) as { status?: { userInfo?: { username?: string } } };
  return review.status?.userInfo?.username ?? "";
}

interface ApiResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/**
 * Server-side apply without a typed serializer (client-node's would drop fields it names differently, such as a
 * LimitRange's `default`): resource paths come from discovery, cached per group/version.
 */
export class Applier {
  private readonly kc: ApiAccess;
  private readonly fieldManager: string;
  private readonly lists = new Map<string, Promise<ApiResourceList>>();

  constructor(kc: ApiAccess, fieldManager: string) {
    this.kc = kc;
    this.fieldManager = fieldManager;
  }

  private groupVersionPath(apiVersion: string): string {
    return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  }

  private async resourceFor(
    apiVersion: string,
    kind: string,
  ): Promise<{ name: string; namespaced: boolean }> {
    const base = this.groupVersionPath(apiVersion);
    let list = this.lists.get(base);
    if (!list) {
      list = kubeRequest(this.kc, "GET", base) as Promise<ApiResourceList>;
      this.lists.set(base, list);
      list.catch(() => this.lists.delete(base));
    }
    let found = (await list).resources.find((r) => r.kind === kind && !r.name.includes("/"));
    if (!found) {
      // A kind registered since the last look (a new CRD): look again once.
      this.lists.delete(base);
      const fresh = (await kubeRequest(this.kc, "GET", base)) as ApiResourceList;
      found = fresh.resources.find((r) => r.kind === kind && !r.name.includes("/"));
    }
    if (!found) throw new Error(`the cluster does not serve ${kind} in ${apiVersion}`);
    return found;
  }

  async apply(
    object: {
      apiVersion: string;
      kind: string;
      metadata: { name?: string; namespace?: string };
    } & Record<string, unknown>,
  ): Promise<unknown> {
    const { name: plural, namespaced } = await this.resourceFor(object.apiVersion, object.kind);
    const ns = namespaced ? `/namespaces/${object.metadata.namespace ?? "default"}` : "";
    const path = `${this.groupVersionPath(object.apiVersion)}${ns}/${plural}/${object.metadata.name ?? ""}?fieldManager=${encodeURIComponent(this.fieldManager)}&force=true`;
    return kubeRequest(this.kc, "PATCH", path, {
      body: object,
      contentType: "application/apply-patch+yaml",
    });
  }
}
