/** Pure part of the helm post-renderer: policy applied to every object of a multi-document manifest. */
import { parseAllDocuments } from "yaml";
import { applyPodPolicy, type PodPolicy } from "./pod-policy.js";

export function postRender(manifests: string, policy: PodPolicy): string {
  const out: string[] = [];
  for (const doc of parseAllDocuments(manifests)) {
    if (doc.errors.length > 0) throw new Error(`invalid manifest: ${doc.errors[0]?.message ?? ""}`);
    const value = doc.toJS() as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) continue;
    out.push(JSON.stringify(applyPodPolicy(value as Record<string, unknown>, policy)));
  }
  // JSON documents: valid YAML that every parser reads alike. Plain YAML would print the string "yes" unquoted,
  // which helm's YAML 1.1 parser turns into a boolean.
  return out.map((d) => `---\n${d}\n`).join("");
}
