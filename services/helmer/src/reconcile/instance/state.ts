import { configure } from "safe-stable-stringify";
import type { Converging } from "./deps.js";

/**
 * JSON with object keys sorted at every depth (safe-stable-stringify), so that equal values compare equal whatever
 * their key order. Strict: a value JSON cannot hold (a function, NaN) throws rather than compare as something else.
 */
const canonical = configure({ strict: true });

/** What helm must do, decided from the release itself (the source of truth), never from our own status. */
export type HelmAction =
  | { readonly kind: "none" }
  | { readonly kind: "install" }
  | { readonly kind: "upgrade"; readonly chartChange: boolean }
  | { readonly kind: "recover"; readonly status: string; readonly revision: number };

/**
 * Install when there is no release; recover one left mid-operation (a crash) or whose only revision failed;
 * upgrade when it is on another chart, not deployed, or installed with other values.
 */
export function decideHelmAction(
  c: Pick<Converging, "instance" | "chartStatus" | "release">,
): HelmAction {
  const { instance, chartStatus, release } = c;
  if (!release) return { kind: "install" };
  if (
    release.status.startsWith("pending-") ||
    (release.status === "failed" && release.revision === 1)
  )
    return { kind: "recover", status: release.status, revision: release.revision };
  const deployedDigest = instance.status?.chart?.digest;
  const chartChange =
    release.chart !== chartStatus.ref ||
    (deployedDigest !== undefined && deployedDigest !== chartStatus.digest);
  if (chartChange || release.status !== "deployed") return { kind: "upgrade", chartChange };
  return canonical(release.values) === canonical(instance.spec)
    ? { kind: "none" }
    : { kind: "upgrade", chartChange: false };
}
