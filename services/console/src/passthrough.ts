/** Where the web app's apiserver requests arrive: `/api/k8s/<the apiserver's own path>`. */
export const PASSTHROUGH_PREFIX = "/api/k8s";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
const BODY_TYPES = new Set([
  "application/json",
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
]);
/**
 * Subresources that would let a page of the console's origin carry a tenant's own HTML (`proxy`) or open a stream
 * into a container (`exec`, `attach`, `portforward`): never passed through, whatever RBAC allows.
 */
const REFUSED_SEGMENTS = new Set(["proxy", "exec", "attach", "portforward"]);

export type PassDecision =
  | { readonly pass: true; readonly path: string }
  | { readonly pass: false; readonly status: number; readonly message: string };

const refuse = (status: number, message: string): PassDecision => ({
  pass: false,
  status,
  message,
});

/**
 * Whether one request of the web app goes to the apiserver, and to which path. `rawPath` is the request's path after
 * the prefix, still percent-encoded, and `query` its query string (without `?`).
 */
export function decidePassthrough(
  method: string,
  rawPath: string,
  query: string,
  contentType: string | undefined,
): PassDecision {
  if (!METHODS.has(method)) return refuse(405, `method ${method} is not passed to the apiserver`);
  const problem = pathProblem(rawPath) ?? bodyProblem(method, contentType);
  if (problem) return problem;
  return { pass: true, path: query === "" ? rawPath : `${rawPath}?${query}` };
}

function pathProblem(rawPath: string): PassDecision | undefined {
  if (
    !/^\/(api|apis)(\/|$)/.test(rawPath) &&
    !/^\/openapi\/v3(\/|$)/.test(rawPath) &&
    rawPath !== "/version"
  )
    return refuse(
      404,
      `only the apiserver's /api, /apis, /openapi/v3 and /version paths are served here (got '${rawPath}')`,
    );
  // One spelling per path: the apiserver decodes percent-escapes (`%70roxy` is `proxy` to it), and no Kubernetes
  // name needs one; no backslashes, no empty or relative segments.
  if (/[%\\]/.test(rawPath))
    return refuse(
      400,
      "percent-encoded characters and backslashes in the path are refused: write the path plainly",
    );
  const segments = rawPath.split("/").slice(1);
  if (segments.some((s, i) => s === "." || s === ".." || (s === "" && i < segments.length - 1)))
    return refuse(400, "empty, '.' or '..' path segments are refused: write the path plainly");
  const refused = segments.find((s) => REFUSED_SEGMENTS.has(s));
  if (refused)
    return refuse(
      403,
      `the console does not pass '${refused}' requests to the apiserver; use kubectl`,
    );
  return undefined;
}

const mediaType = (contentType: string | undefined): string =>
  (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";

function bodyProblem(method: string, contentType: string | undefined): PassDecision | undefined {
  if (method === "GET" || method === "DELETE") return undefined;
  const type = mediaType(contentType);
  if (BODY_TYPES.has(type)) return undefined;
  return refuse(
    415,
    `a ${method} body must be one of ${[...BODY_TYPES].join(", ")} (got '${type === "" ? "none" : type}')`,
  );
}

/** Content types of apiserver answers the browser gets as they are; anything else is sent as opaque bytes. */
export function safeResponseType(contentType: string | undefined): string {
  const type = mediaType(contentType);
  if (
    type === "application/json" ||
    type === "text/plain" ||
    /^application\/[a-z.+-]*\+json$/.test(type)
  )
    return contentType ?? "application/octet-stream";
  return "application/octet-stream";
}
