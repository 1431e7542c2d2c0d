import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Pki } from "./pki.js";

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export interface ClientTls {
  readonly ca: string;
  readonly cert?: string;
  readonly key?: string;
}

/** The admin identity's TLS material, read from the PKI folder. */
export function adminTls(pki: Pki): ClientTls {
  return {
    ca: readFileSync(pki.caCert, "utf8"),
    cert: readFileSync(pki.cert("admin"), "utf8"),
    key: readFileSync(pki.key("admin"), "utf8"),
  };
}

/** One HTTP(S) request with a short timeout; used for readiness probes and the few admin calls `up` makes. */
export function httpCall(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    tls?: ClientTls;
    timeoutMs?: number;
    contentType?: string;
  } = {},
): Promise<HttpResult> {
  const target = new URL(url);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? "GET",
        headers: payload ? { "content-type": options.contentType ?? "application/json" } : {},
        timeout: options.timeoutMs ?? 3_000,
        ...(options.tls ?? {}),
        // Self-signed serving certificates of kube-controller-manager and kube-scheduler are not ours to verify.
        rejectUnauthorized: options.tls !== undefined,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out: ${url}`)));
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Status code of a GET, or 0 when nothing answers. */
export async function probe(url: string, tls?: ClientTls): Promise<number> {
  try {
    return (await httpCall(url, tls ? { tls } : {})).status;
  } catch {
    return 0;
  }
}
