import { rmSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A byte pipe between a TCP address and a unix socket (`kubeplus-dev forward`). It carries the apiserver into the
 * real nodes' network namespaces without giving the host a listener outside loopback: the host end listens on a
 * unix socket (file system, not network namespace) and dials 127.0.0.1; the node end, started inside a node's
 * namespace, listens there and dials the socket.
 */
export type Endpoint =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (!path.startsWith("/")) throw new Error(`unix endpoint needs an absolute path: ${text}`);
    return { kind: "unix", path };
  }
  const m = /^tcp:([0-9.]+):(\d+)$/.exec(text);
  const port = Number(m?.[2]);
  if (!m?.[1] || !(port > 0 && port < 65536))
    throw new Error(`endpoint must be tcp:<ipv4>:<port> or unix:<path>, got ${text}`);
  return { kind: "tcp", host: m[1], port };
}

function dial(to: Endpoint): Socket {
  return to.kind === "unix" ? connect(to.path) : connect(to.port, to.host);
}

/** Listens on `from` and pipes every connection to `to`; resolves once listening. */
export function forward(from: Endpoint, to: Endpoint): Promise<Server> {
  const server = createServer((client) => {
    const upstream = dial(to);
    client.pipe(upstream).pipe(client);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  });
  if (from.kind === "unix") rmSync(from.path, { force: true });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const onListening = (): void => {
      resolve(server);
    };
    if (from.kind === "unix") server.listen(from.path, onListening);
    else server.listen(from.port, from.host, onListening);
  });
}
