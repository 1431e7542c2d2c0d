import { beforeAll, inject } from "vitest";
import { removeLeftovers } from "./leftovers.js";

/**
 * Vitest setup file of the int and e2e projects, run before each test file (they run one at a time): whatever an
 * earlier file left behind because its afterAll did not finish (its crd-hook's webhook configurations, its services)
 * goes first, so that a failing file never breaks the next.
 */
beforeAll(async () => {
  const removed = await removeLeftovers(inject("cluster"));
  if (removed.length > 0)
    process.stderr.write(
      `[testing] removed what an earlier test file left behind: ${removed.join(", ")}\n`,
    );
}, 60_000);
