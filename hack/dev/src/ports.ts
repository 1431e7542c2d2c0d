import { createServer, type Server } from "node:net";

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address && typeof address === "object") resolve(address.port);
      else reject(new Error("could not read the allocated port"));
    });
  });
}

/**
 * Reserves `count` distinct free loopback ports. They are released before the caller binds them, so a start can
 * still race with another process; callers retry a component that fails with "address already in use".
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(servers.map(listen));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}
