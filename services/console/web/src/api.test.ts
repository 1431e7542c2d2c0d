import { describe, expect, it } from "vitest";
import { Api, ApiError, type CatalogKind } from "./api.js";
import { instancesPath } from "./api.js";

interface Call {
  url: string;
  init: RequestInit | undefined;
}

/** An Api over a fake fetch that answers each call with the next response. */
function fake(...responses: (() => Response)[]) {
  const calls: Call[] = [];
  let signedOut = 0;
  const api = new Api(
    () => {
      signedOut++;
    },
    (url, init) => {
      calls.push({ url, init });
      const next = responses.shift();
      if (!next) throw new Error(`unexpected call ${url}`);
      return Promise.resolve(next());
    },
  );
  return { api, calls, signedOut: () => signedOut };
}

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

const session = {
  user: { username: "alice", groups: [] },
  namespace: "team-a",
  csrfToken: "tok-1",
};
const kind: CatalogKind = {
  group: "platformapi.kubeplus",
  version: "v1alpha1",
  kind: "HelloWorldService",
  plural: "helloworldservices",
  description: "",
  verbs: [],
  schema: {},
};

const header = (c: Call | undefined, name: string): string | null =>
  new Headers(c?.init?.headers).get(name);

describe("Api", () => {
  it("sends the session's CSRF token on every change, and none on reads", async () => {
    const f = fake(json(200, session), json(200, {}), json(201, {}), json(200, {}), json(200, {}));
    await f.api.session();
    await f.api.get("/api/v1/namespaces/team-a/pods");
    await f.api.create(instancesPath(kind, "team-a"), { spec: {} });
    await f.api.replace(instancesPath(kind, "team-a", "x"), { spec: {} });
    await f.api.remove(instancesPath(kind, "team-a", "x"));
    expect(f.calls.map((c) => [c.init?.method ?? "GET", c.url, header(c, "X-CSRF-Token")])).toEqual(
      [
        ["GET", "/api/session", null],
        ["GET", "/api/k8s/api/v1/namespaces/team-a/pods", null],
        [
          "POST",
          "/api/k8s/apis/platformapi.kubeplus/v1alpha1/namespaces/team-a/helloworldservices",
          "tok-1",
        ],
        [
          "PUT",
          "/api/k8s/apis/platformapi.kubeplus/v1alpha1/namespaces/team-a/helloworldservices/x",
          "tok-1",
        ],
        [
          "DELETE",
          "/api/k8s/apis/platformapi.kubeplus/v1alpha1/namespaces/team-a/helloworldservices/x",
          "tok-1",
        ],
      ],
    );
    expect(f.calls.every((c) => c.init?.credentials === "same-origin")).toBe(true);
  });

  it("encodes names in paths", () => {
    expect(instancesPath(kind, "team-a", "a/../b")).toBe(
      "/apis/platformapi.kubeplus/v1alpha1/namespaces/team-a/helloworldservices/a%2F..%2Fb",
    );
  });

  it("ends the session on a 401 from the apiserver, but not on a refused sign-in", async () => {
    const f = fake(json(401, { message: "bad token" }), json(401, { message: "Unauthorized" }));
    await expect(f.api.signIn("apiVersion: v1")).rejects.toThrow("bad token");
    expect(f.signedOut()).toBe(0);
    await expect(f.api.get("/api/v1/namespaces/x/pods")).rejects.toBeInstanceOf(ApiError);
    expect(f.signedOut()).toBe(1);
  });

  it("keeps the refusal's Status as the error's body", async () => {
    const status = { kind: "Status", message: "denied", code: 403 };
    const f = fake(json(403, status));
    const err = await f.api.create("/x", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).body).toEqual(status);
    expect((err as ApiError).message).toBe("denied");
  });

  it("watches from a resourceVersion, giving events split across chunks, until told to stop", async () => {
    const chunks = [
      '{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MODI',
      'FIED","object":{"metadata":{"name":"a"}}}\n',
      '{"type":"ERROR","object":{"code":410}}\n{"type":"ADDED","object":{"metadata":{"name":"late"}}}\n',
    ];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
        c.close();
      },
    });
    const f = fake(() => new Response(body, { status: 200 }));
    const seen: string[] = [];
    await f.api.watch(
      "/apis/g/v1/namespaces/ns/things",
      { resourceVersion: "42" },
      (ev) => {
        seen.push(ev.type);
        return ev.type === "ERROR" ? "stop" : undefined;
      },
      new AbortController().signal,
    );
    expect(seen).toEqual(["ADDED", "MODIFIED", "ERROR"]);
    const url = new URL(f.calls[0]?.url ?? "", "http://console");
    expect(url.pathname).toBe("/api/k8s/apis/g/v1/namespaces/ns/things");
    expect(url.searchParams.get("watch")).toBe("true");
    expect(url.searchParams.get("resourceVersion")).toBe("42");
  });

  it("follows a log as text, piece by piece", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("line 1\n<b>li"));
        c.enqueue(new TextEncoder().encode("ne 2</b>\n"));
        c.close();
      },
    });
    const f = fake(
      () => new Response(body, { status: 200, headers: { "Content-Type": "text/plain" } }),
    );
    let text = "";
    await f.api.followLog(
      { namespace: "ns", pod: "p", container: "c" },
      (t) => {
        text += t;
      },
      new AbortController().signal,
    );
    expect(text).toBe("line 1\n<b>line 2</b>\n");
    expect(f.calls[0]?.url).toBe(
      "/api/k8s/api/v1/namespaces/ns/pods/p/log?container=c&follow=true&tailLines=200",
    );
  });
});
