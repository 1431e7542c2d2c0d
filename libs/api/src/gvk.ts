/** The group of the platform's own kinds. */
export const PLATFORM_GROUP = "workflows.kubeplus";
export const PLATFORM_VERSION = "v1alpha1";
/** The default group of generated kinds (a composition may name another). */
export const DEFAULT_GENERATED_GROUP = "platformapi.kubeplus";

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

export const PlatformKinds = {
  ResourceComposition: {
    group: PLATFORM_GROUP,
    version: PLATFORM_VERSION,
    kind: "ResourceComposition",
    plural: "resourcecompositions",
  },
  ResourcePolicy: {
    group: PLATFORM_GROUP,
    version: PLATFORM_VERSION,
    kind: "ResourcePolicy",
    plural: "resourcepolicies",
  },
  ResourceMonitor: {
    group: PLATFORM_GROUP,
    version: PLATFORM_VERSION,
    kind: "ResourceMonitor",
    plural: "resourcemonitors",
  },
} as const;

export function apiVersionOf(gv: { group: string; version: string }): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}
