import { Agent, request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import type { Credential } from "./credentials.js";

export interface ApiRequest {
  readonly method: string;
  /** Path and query, as the apiserver takes them (`/apis/...?watch=true`). */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable;
  readonly signal?: AbortSignal;
}

export interface JsonAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * The one apiserver the console talks to, always with the signed-in user's own credential: the console has none.
 * Tokens share one keep-alive agent; a client certificate gets an agent of its own (its TLS identity differs).
 */
export class Apiserver {
  private readonly url: URL;
  private readonly shared: Agent;
  private readonly certificateAgents = new WeakMap<Credential, Agent>();
  private readonly ca: string;

  constructor(url: string, ca: string) {
    this.url = new URL(url);
    this.ca = ca;
    this.shared = new Agent({ keepAlive: true, ca });
  }

  private agentFor(credential: Credential): Agent {
    if (credential.kind === "token") return this.shared;
    let agent = this.certificateAgents.get(credential);
    if (!agent) {
      agent = new Agent({
        keepAlive: true,
        ca: this.ca,
        cert: credential.cert,
        key: credential.key,
      });
      this.certificateAgents.set(credential, agent);
    }
    return agent;
  }

  /** Sends one request as the user; resolves with the apiserver's response as a stream. */
  request(credential: Credential, req: ApiRequest): Promise<IncomingMessage> {
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (credential.kind === "token") headers.authorization = `Bearer ${credential.token}`;
    return new Promise((resolve, reject) => {
      const outgoing = httpsRequest(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ""),
          port: this.url.port || 443,
          method: req.method,
          path: req.path,
          headers,
          agent: this.agentFor(credential),
          ...(req.signal ? { signal: req.signal } : {}),
        },
        resolve,
      );
      outgoing.on("error", reject);
      if (req.body === undefined) outgoing.end();
      else if (Buffer.isBuffer(req.body)) outgoing.end(req.body);
      else req.body.pipe(outgoing);
    });
  }

  /** One request with a JSON body (or none), answered with JSON. */
  async json<T>(
    credential: Credential,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<JsonAnswer<T>> {
    const res = await this.request(credential, {
      method,
      path,
      ...(body === undefined
        ? {}
        : {
            body: Buffer.from(JSON.stringify(body)),
            headers: { "content-type": "application/json" },
          }),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 500) };
    }
    return { status: res.statusCode ?? 502, body: parsed as T };
  }

  close(): void {
    this.shared.destroy();
  }
}
