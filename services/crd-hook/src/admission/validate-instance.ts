import {
  Labels,
  MAX_INSTANCE_NAME_FOR_NAMESPACE,
  MAX_RELEASE_NAME,
  releaseNameFor,
  reservedNamespaceReason,
  targetNamespaceFor,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";
import { OriginalText, withOriginal } from "@kubeplus/admission";
import type { FieldError, ValidationResult } from "./review.js";

export interface NamespaceInfo {
  readonly phase?: string;
  readonly labels: Record<string, string>;
}

export interface License {
  readonly allowedInstances?: number;
  /** MM/DD/YYYY, as the original's licenses. */
  readonly expiry?: string;
}

/** What instance admission reads: all of it from watched caches, so that admission stays fast. */
export interface InstanceDeps {
  namespace(name: string): NamespaceInfo | undefined;
  nodeNames(): readonly string[];
  license(kind: string): License | undefined;
  countInstances(composition: ResourceComposition): Promise<number>;
  now(): Date;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function validateName(instance: Instance, kind: string, createsNamespace: boolean): FieldError[] {
  const name = instance.metadata.name ?? "";
  const errors: FieldError[] = [];
  const release = releaseNameFor(kind, name);
  if (release.length > MAX_RELEASE_NAME) {
    const allowed = MAX_RELEASE_NAME - kind.length - 1;
    errors.push({
      path: "metadata.name",
      detail: withOriginal(
        OriginalText.nameLength(allowed),
        `'${name}' makes the Helm release name '${release}' ${release.length} characters long; the limit is ${MAX_RELEASE_NAME}, so ${kind} instance names may have at most ${allowed} characters`,
      ),
    });
  }
  if (
    createsNamespace &&
    (!DNS_LABEL.test(name) || name.length > MAX_INSTANCE_NAME_FOR_NAMESPACE)
  ) {
    errors.push({
      path: "metadata.name",
      detail: `'${name}' cannot start the instance's namespace name (<name>-<8 hex digits>): use lower-case letters, digits and '-' (no dots), at most ${String(MAX_INSTANCE_NAME_FOR_NAMESPACE)}`,
    });
  }
  return errors;
}

function validateNamespace(
  instance: Instance,
  kind: string,
  target: string,
  deps: InstanceDeps,
): FieldError[] {
  const ns = deps.namespace(target);
  if (!ns) return [];
  const path = "metadata.name";
  if (ns.phase === "Terminating") {
    return [
      {
        path,
        detail: withOriginal(
          OriginalText.namespaceTerminating(instance.metadata.name ?? ""),
          `namespace ${target} of an earlier instance is still being deleted; wait until it is gone, then create the instance again`,
        ),
      },
    ];
  }
  const ownerKind = ns.labels[Labels.OwnerKind];
  const ownerName = ns.labels[Labels.OwnerInstance];
  const ownerNs = ns.labels[Labels.OwnerInstanceNamespace];
  if (!ownerKind) {
    return [
      {
        path,
        detail: `a namespace named ${target} already exists and is not managed by KubePlus; choose another instance name`,
      },
    ];
  }
  if (
    ownerKind !== kind ||
    ownerName !== instance.metadata.name ||
    (ownerNs && ownerNs !== instance.metadata.namespace)
  ) {
    return [
      {
        path,
        detail: withOriginal(
          OriginalText.otherKind(instance.metadata.name ?? "", ownerKind),
          `namespace ${target} belongs to ${ownerKind} ${ownerNs ?? "?"}/${ownerName ?? "?"}; choose another instance name`,
        ),
      },
    ];
  }
  return [];
}

async function validateLicense(
  instance: Instance,
  rc: ResourceComposition,
  deps: InstanceDeps,
): Promise<FieldError[]> {
  const kind = rc.spec.newResource.resource.kind;
  const license = deps.license(kind);
  if (!license) return [];
  const problems: string[] = [];
  // The original's sentences, as it joined them, lead the message (users' scripts look for them).
  const original: string[] = [];
  if (license.allowedInstances !== undefined) {
    const count = await deps.countInstances(rc);
    if (count >= license.allowedInstances) {
      problems.push(`allows ${license.allowedInstances} instance(s) and ${count} exist`);
      original.push(OriginalText.licenseCount);
    }
  }
  if (license.expiry) {
    const [m, d, y] = license.expiry.split("/").map(Number);
    const end = new Date(Date.UTC(y ?? 0, (m ?? 1) - 1, d ?? 1, 23, 59, 59));
    if (Number.isNaN(end.getTime()) || deps.now() > end) {
      problems.push(`expired on ${license.expiry}`);
      original.push(OriginalText.licenseExpired(license.expiry));
    }
  }
  if (problems.length === 0) return [];
  return [
    {
      path: instance.metadata.name ?? "instance",
      detail: withOriginal(
        `${original.join(" ")} ${OriginalText.licenseUpdate(kind)}`,
        `the license for ${kind} ${problems.join(" and ")}; update it (kubectl license create ${kind} ...) and try again`,
      ),
    },
  ];
}

function specValue(spec: Record<string, unknown>, dotted: string): unknown {
  return dotted
    .split(".")
    .reduce<unknown>(
      (v, key) => (v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined),
      spec,
    );
}

function validateNode(
  instance: Instance,
  rc: ResourceComposition,
  deps: InstanceDeps,
): FieldError[] {
  const selector = rc.spec.respolicy?.spec?.policy?.podconfig?.nodeSelector;
  if (!selector?.startsWith("values.")) return [];
  const field = selector.slice("values.".length);
  const node = specValue(instance.spec, field);
  if (node === undefined || node === null || node === "") return [];
  const nodes = deps.nodeNames();
  if (typeof node === "string" && nodes.includes(node)) return [];
  return [unknownNode(node, field, nodes)];
}

function unknownNode(node: unknown, field: string, nodes: readonly string[]): FieldError {
  return {
    path: `spec.${field}`,
    detail: withOriginal(
      OriginalText.invalidNode(typeof node === "string" ? node : JSON.stringify(node)),
      `node ${JSON.stringify(node)} does not exist; this composition pins instances to the node named in spec.${field}: use one of ${nodes.join(", ")}`,
    ),
  };
}

/**
 * Validates an instance of a generated kind beyond its schema: names that fit the namespace and release derived
 * from them, no clash with a terminating or foreign namespace, the kind's license, and the node it is pinned to.
 */
export async function validateInstance(
  instance: Instance,
  operation: "CREATE" | "UPDATE",
  rc: ResourceComposition,
  deps: InstanceDeps,
): Promise<ValidationResult> {
  const kind = rc.spec.newResource.resource.kind;
  const target = targetNamespaceFor(
    {
      kind,
      namespace: instance.metadata.namespace ?? "",
      name: instance.metadata.name ?? "",
      // The apiserver gives the UID before validating admission runs.
      uid: instance.metadata.uid ?? "",
    },
    (name) => deps.namespace(name)?.labels,
  );
  const errors: FieldError[] = [
    ...validateName(instance, kind, target.create),
    ...validateNode(instance, rc, deps),
  ];
  if (operation === "CREATE" && target.create) {
    // Compositions live in the KubePlus namespace. The helmer checks this too, with the administrator's own list.
    const reserved = reservedNamespaceReason(target.namespace, rc.metadata.namespace ?? "");
    if (reserved) errors.push({ path: "metadata.name", detail: reserved });
  }
  if (operation === "CREATE") {
    if (target.create) errors.push(...validateNamespace(instance, kind, target.namespace, deps));
    errors.push(...(await validateLicense(instance, rc, deps)));
  }
  return { errors, warnings: [] };
}
