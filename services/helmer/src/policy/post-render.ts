/**
 * Pure part of the helm post-render step: the objects helm rendered are checked for tenant isolation, given the pod
 * policy, and handed back to helm; the helmer keeps them (what the release applies) for readiness and inventory.
 */
import { parseAllDocuments } from "yaml";
import { HELM_YAML, type RenderedObject } from "@kubeplus/charts";
import { applyPodPolicy, type PodPolicy } from "./pod-policy.js";

/** The annotation helm puts on every object it hands a post-renderer, naming its template; helm removes it after. */
export const HELM_SOURCE_ANNOTATION = "postrenderer.helm.sh/postrender-filename";

export type PostRenderAnswer =
  | {
      readonly ok: true;
      /** For helm: the objects with the policy applied, as JSON documents. */
      readonly manifests: string;
      /** What the release applies: the same objects, with their templates as `source`. */
      readonly objects: RenderedObject[];
    }
  | { readonly ok: false; readonly problems: string[] };

type Obj = Record<string, unknown>;

/** The object without helm's file annotation (and without an annotations map that only held it). */
function withoutHelmAnnotation(object: Obj): { object: Obj; source?: string } {
  const meta = (object.metadata ?? {}) as Obj & { annotations?: Record<string, string> };
  const source = meta.annotations?.[HELM_SOURCE_ANNOTATION];
  if (source === undefined) return { object };
  const { [HELM_SOURCE_ANNOTATION]: _dropped, ...annotations } = meta.annotations ?? {};
  const { annotations: _all, ...rest } = meta;
  const metadata = Object.keys(annotations).length > 0 ? { ...rest, annotations } : rest;
  return { object: { ...object, metadata }, source };
}

interface Document {
  /** The object as Kubernetes will read it (YAML 1.1, as helm's decoder). */
  readonly value: Obj;
  /** The document as helm wrote it. */
  readonly text: string;
}

function parseDocuments(manifests: string): Document[] {
  const out: Document[] = [];
  for (const doc of parseAllDocuments(manifests, HELM_YAML)) {
    if (doc.errors.length > 0) throw new Error(`invalid manifest: ${doc.errors[0]?.message ?? ""}`);
    const value = doc.toJS() as unknown;
    const range = doc.contents?.range;
    if (range && value && typeof value === "object" && !Array.isArray(value))
      out.push({ value: value as Obj, text: manifests.slice(range[0], range[2]) });
  }
  return out;
}

/**
 * One document for helm: as helm wrote it when the policy leaves it alone (nothing of it is re-encoded), else the
 * changed object as JSON, which every YAML parser reads alike (plain YAML would print the string "yes" unquoted,
 * and helm's YAML 1.1 decoder would read it as true).
 */
function forHelm(doc: Document, policed: Obj): string {
  const changed = JSON.stringify(policed) !== JSON.stringify(doc.value);
  return changed ? `---\n${JSON.stringify(policed)}\n` : `---\n${doc.text.replace(/\n*$/, "\n")}`;
}

/**
 * What the helmer answers helm's post-render step: the isolation problems, if any (helm then stops before it
 * creates or changes anything), else the objects with the pod policy applied.
 */
export function answerPostRender(
  manifests: string,
  policy: PodPolicy,
  isolationProblems: (objects: readonly RenderedObject[]) => string[],
): PostRenderAnswer {
  const documents = parseDocuments(manifests);
  const policed = documents.map((d) => applyPodPolicy(d.value, policy));
  const objects = policed.map((d) => {
    const { object, source } = withoutHelmAnnotation(d);
    return source === undefined ? { object } : { object, source };
  });
  const problems = isolationProblems(objects);
  if (problems.length > 0) return { ok: false, problems };
  const manifestsOut = documents.map((d, i) => forHelm(d, policed[i] ?? d.value)).join("");
  return { ok: true, manifests: manifestsOut, objects };
}
