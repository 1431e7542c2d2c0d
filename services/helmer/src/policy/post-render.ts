/** Pure part of the helm post-renderer: policy applied to every object of a multi-document manifest. */
import { parseAllDocuments, stringify } from "yaml";
import { applyPodPolicy, type PodPolicy } from "./pod-policy.js";

export function postRender(manifests: string, policy: PodPolicy): string {
  const out: string[] = [];
  for (const doc of parseAllDocuments(manifests)) {
    if (doc.errors.length > 0) throw new Error(`invalid manifest: ${doc.errors[0]?.message ?? ""}`);
    const value = doc.toJS() as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) continue;
    out.push(stringify(applyPodPolicy(value as Record<string, unknown>, policy)));
  }
  return out.map((d) => `---\n${d}`).join("");
}
