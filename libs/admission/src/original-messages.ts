/**
 * The original KubePlus's words for its refusals, as ../shared/docs/kubeplus-reference.md records them (§3.3, §3.4,
 * §3.7). Users' automation looks for them in kubectl's stderr, so each of our refusals that has an original
 * counterpart starts with the original's text, verbatim, then says ours: what exactly, and what to change.
 */
export const OriginalText = {
  /** §3.3, dry-run: a rendered `kind: Namespace` (the original prefixed it with a space). */
  namespaceInChart: "Namespace object is not allowed in the chart.",
  /** §3.3, dry-run: a claim's storage class whose reclaimPolicy is not Delete. */
  reclaimPolicy: (policy: string): string =>
    `Storage class with reclaim policy ${policy} not allowed.`,
  /** §3.3: one to three of the four quota values given. */
  incompleteQuota:
    "If quota is specified, specify all four values: requests.cpu, requests.memory, limits.cpu, limits.memory",
  /** §3.3: a CPU quota beyond the nodes' allocatable CPU (the original's figures follow the colon). */
  cpuCapacity: "Specified CPU quota values are more than CPU capacity:",
  /** §3.3: a memory quota beyond the nodes' allocatable memory. */
  memoryCapacity: "Specified Memory quota values are more than Memory capacity:",
  /** §3.3: a kind with a period. */
  kindPeriod: (kind: string): string => `Kind name ${kind} invalid. Cannot contain period (.)`,
  /**
   * §3.3: a kind too long. The original's limit is 28; ours is 40 (release names are `<kind>-<instance>`, 53 at
   * most), so the sentence keeps the original's words with our number.
   */
  kindLength: (max: number): string =>
    `Kind name cannot be more than ${String(max)} characters. Consider changing Kind name.`,
  /** §3.3: the kind is already served by the cluster. */
  kindExists: (kind: string): string => `Resource with Kind Name ${kind} exists in the cluster.`,
  /** §3.3: the plural is already served by the cluster. */
  pluralExists: (plural: string): string =>
    `Resource with Plural Name ${plural} exists in the cluster.`,
  /** §3.3, dry-run: the chart's Roles grant what the provider does not hold. */
  missingPermissions:
    "KubePlus does not have the following permissions required by the Chart. Use provider-kubeconfig.py to add the missing permissions.",
  /** §3.7: the license's instance count is reached. */
  licenseCount: "Allowed number of instances reached.",
  /** §3.7: the license has expired (the original's date, as given: MM/DD/YYYY). */
  licenseExpired: (expiry: string): string => `License expired (expiry date):${expiry}.`,
  /** §3.4: what follows a license refusal. */
  licenseUpdate: (kind: string): string => `Update license for ${kind} and then re-try.`,
  /** §3.4: the instance's namespace of an earlier instance is still Terminating. */
  namespaceTerminating: (name: string): string =>
    `Previous Namespace for custom resource ${name} is in terminating state. Wait for it to terminate and then re-deploy`,
  /** §3.4: the namespace named like the instance belongs to an instance of another kind. */
  otherKind: (name: string, kind: string): string =>
    `App with name ${name} already exists for Kind ${kind}. Use different app name.`,
  /**
   * §3.4: the instance name makes the release name too long. The original allowed 30 - len(kind) - 1; ours follows
   * Helm's 53, so the sentence keeps the original's words with our number.
   */
  nameLength: (allowed: number): string =>
    `Instance name exceeds the allowed limit of ${String(allowed)}. Consider changing instance name.`,
  /** §3.4: the node named in the instance's spec does not exist. */
  invalidNode: (name: string): string => `Invalid node name specified ${name}`,
} as const;

/** The original's text, verbatim, then ours as a sentence of its own (after a colon: as the original's figures). */
export function withOriginal(original: string, ours: string): string {
  if (original.endsWith(":")) return `${original} ${ours}`;
  const sentence = ours.charAt(0).toUpperCase() + ours.slice(1);
  return `${original}${original.endsWith(".") ? "" : "."} ${sentence}`;
}
