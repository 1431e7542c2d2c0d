type Obj = Record<string, unknown>;

const asObj = (v: unknown): Obj | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The pod template of a workload (or the Pod's own spec). */
export function podSpecOf(o: Obj): { spec: Obj; at: string } | undefined {
  const kind = str(o.kind);
  const spec = asObj(o.spec);
  if (!spec) return undefined;
  if (kind === "Pod") return { spec, at: "spec" };
  if (kind === "CronJob") {
    const inner = asObj(asObj(asObj(asObj(spec.jobTemplate)?.spec)?.template)?.spec);
    return inner ? { spec: inner, at: "spec.jobTemplate.spec.template.spec" } : undefined;
  }
  if (
    [
      "Deployment",
      "StatefulSet",
      "DaemonSet",
      "ReplicaSet",
      "Job",
      "ReplicationController",
    ].includes(kind ?? "")
  ) {
    const inner = asObj(asObj(spec.template)?.spec);
    return inner ? { spec: inner, at: "spec.template.spec" } : undefined;
  }
  return undefined;
}
