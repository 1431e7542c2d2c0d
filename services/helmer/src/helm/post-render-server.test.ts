import { execFile, spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostRenderServer } from "./post-render-server.js";
import { DEFAULT_POST_RENDER_BIN } from "./post-renderer-plugin.js";

/** What helm does with the plugin: runs the forwarder with the socket and the token, manifests on stdin. */
const forward = (socket: string, token: string, manifests: string) =>
  // Asynchronous: the server answers on this process's event loop.
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(DEFAULT_POST_RENDER_BIN, [socket, token], (err, stdout, stderr) => {
      resolve({ code: err ? (child.exitCode ?? -1) : 0, stdout, stderr });
    });
    child.stdin?.end(manifests);
  });

let server: PostRenderServer;
beforeAll(async () => {
  server = await PostRenderServer.start();
});
afterAll(async () => {
  await server.close();
});

describe("the post-render forwarder and the helmer's socket (built by make build)", () => {
  it("gives helm the helmer's answer for the run that holds the token", async () => {
    const run = await server.around(
      (manifests) => ({ ok: true, manifests: manifests.toUpperCase(), objects: [] }),
      (token) => forward(server.socket, token, "kind: ConfigMap\n"),
    );
    expect(run.result).toEqual({ code: 0, stdout: "KIND: CONFIGMAP\n", stderr: "" });
    expect(run.answer?.ok).toBe(true);
  });

  it("fails helm's step with the refusal, and keeps the problems for the helmer", async () => {
    const run = await server.around(
      () => ({ ok: false, problems: ["Pod/p spec.volumes[0].hostPath: mounts the node path"] }),
      (token) => forward(server.socket, token, "kind: Pod\n"),
    );
    expect(run.result?.code).toBe(1);
    expect(run.result?.stderr).toContain("the helmer refused the manifests: Pod/p spec.volumes[0]");
    expect(run.answer).toEqual({
      ok: false,
      problems: ["Pod/p spec.volumes[0].hostPath: mounts the node path"],
    });
  });

  it("records manifests it cannot handle, and refuses a token no run holds", async () => {
    const run = await server.around(
      () => {
        throw new Error("invalid manifest: unexpected end");
      },
      (token) => forward(server.socket, token, "kind: ["),
    );
    expect(run.result?.code).toBe(1);
    expect(run.failure).toBe("invalid manifest: unexpected end");
    const stray = await forward(server.socket, "not-a-token", "kind: Pod\n");
    expect(stray.code).toBe(1);
    expect(stray.stderr).toContain("no helm run of this helmer is waiting for these manifests");
  });

  it("says what is wrong when the helmer cannot be reached", () => {
    const r = spawnSync(DEFAULT_POST_RENDER_BIN, ["/nonexistent/post-render.sock", "t"], {
      input: "kind: Pod\n",
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("cannot reach the helmer at /nonexistent/post-render.sock");
  });
});
