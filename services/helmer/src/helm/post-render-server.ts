import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiErrorMessage } from "@kubeplus/kube/lite";
import type { PostRenderAnswer } from "../policy/post-render.js";

/** What one helm run's post-render step was answered, beside the run's own outcome. */
export interface PostRendered<T> {
  readonly result?: T;
  /** The helm run failed (a refusal below makes helm fail too). */
  readonly error?: Error;
  /** The last answer given to the run's post-renderer. */
  readonly answer?: PostRenderAnswer;
  /** The manifests could not be handled at all (not YAML, say): why. */
  readonly failure?: string;
}

type Handler = (manifests: string) => PostRenderAnswer;

interface Pending {
  readonly handle: Handler;
  answer?: PostRenderAnswer;
  failure?: string;
}

/**
 * Where helm's post-render step comes back to the helmer: a unix socket in a private folder, served by the helmer
 * that starts helm. Helm runs the tiny forwarder (`kubeplus-post-render <socket> <token>`), which sends the rendered
 * manifests here; the token says which helm run they belong to. See post-render-shim/main.go for the protocol.
 */
export class PostRenderServer {
  private readonly pending = new Map<string, Pending>();
  private readonly server: Server = createServer({ allowHalfOpen: true }, (conn) => {
    answer(conn, this.pending);
  });

  /** The socket the forwarder connects to. */
  readonly socket: string;
  /** This process's private folder (mode 0700), removed on close. */
  readonly dir: string;

  private constructor(socket: string, dir: string) {
    this.socket = socket;
    this.dir = dir;
  }

  static async start(): Promise<PostRenderServer> {
    // mkdtemp makes the folder 0700: only this user reaches the socket. A short path: sockets allow 107 bytes.
    const dir = await mkdtemp(join(tmpdir(), "kubeplus-helmer-"));
    const s = new PostRenderServer(join(dir, "post-render.sock"), dir);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(s.socket, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    return s;
  }

  /**
   * Runs `run` (a helm command given the token as its post-renderer's argument) with `handle` answering its
   * post-render step. Never throws: the run's error and the answer come back together.
   */
  async around<T>(handle: Handler, run: (token: string) => Promise<T>): Promise<PostRendered<T>> {
    const token = randomUUID();
    const entry: Pending = { handle };
    this.pending.set(token, entry);
    try {
      const result = await run(token);
      return { result, ...outcome(entry) };
    } catch (err) {
      return {
        error: err instanceof Error ? err : new Error(apiErrorMessage(err)),
        ...outcome(entry),
      };
    } finally {
      this.pending.delete(token);
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

function outcome(entry: Pending): Pick<PostRendered<unknown>, "answer" | "failure"> {
  return {
    ...(entry.answer ? { answer: entry.answer } : {}),
    ...(entry.failure !== undefined ? { failure: entry.failure } : {}),
  };
}

/** One request: the token line, then the manifests; the reply is "ok\n" and manifests, or "refused\n" and why. */
function answer(conn: Socket, pending: Map<string, Pending>): void {
  const chunks: Buffer[] = [];
  conn.on("data", (c: Buffer) => chunks.push(c));
  conn.on("error", () => conn.destroy());
  conn.on("end", () => {
    const text = Buffer.concat(chunks).toString();
    const newline = text.indexOf("\n");
    const entry = pending.get(newline < 0 ? text : text.slice(0, newline));
    if (!entry) {
      conn.end(
        "refused\nno helm run of this helmer is waiting for these manifests (was the helmer restarted?)",
      );
      return;
    }
    try {
      const a = entry.handle(text.slice(newline + 1));
      entry.answer = a;
      if (!a.ok) conn.end(`refused\n${a.problems.join("; ")}`);
      // Helm refuses an empty answer; a chart that renders nothing gets a comment, which it reads as no objects.
      else conn.end(`ok\n${a.manifests || "# no objects\n"}`);
    } catch (err) {
      entry.failure = apiErrorMessage(err);
      conn.end(`refused\n${entry.failure}`);
    }
  });
}
