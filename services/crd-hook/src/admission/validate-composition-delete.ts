import { Annotations, type ResourceComposition } from "@kubeplus/api";

export interface CompositionDeleteDeps {
  /** `namespace/name` of every instance of the composition's kind (none when the kind is not served). */
  instanceNames(composition: ResourceComposition): Promise<string[]>;
}

const SHOWN = 10;

/**
 * Deleting a composition removes its API and so every instance; refused while instances exist unless the
 * composition carries the cascade annotation (then the helmer removes them all, cleanly, before the API goes).
 * Returns the refusal message, or undefined when the deletion may go ahead.
 */
export async function validateCompositionDelete(
  rc: ResourceComposition,
  deps: CompositionDeleteDeps,
): Promise<string | undefined> {
  if (rc.metadata.annotations?.[Annotations.CascadeDelete] === "true") return undefined;
  const names = await deps.instanceNames(rc);
  if (names.length === 0) return undefined;
  const name = rc.metadata.name ?? "";
  const kind = rc.spec.newResource.resource.kind;
  const shown =
    names.slice(0, SHOWN).join(", ") +
    (names.length > SHOWN ? `, and ${names.length - SHOWN} more` : "");
  return (
    `ResourceComposition ${name} still has ${names.length} ${kind} instance(s): ${shown}. ` +
    `Delete them first, or let the deletion remove them too: ` +
    `kubectl annotate resourcecomposition ${name} -n ${rc.metadata.namespace ?? ""} ${Annotations.CascadeDelete}=true`
  );
}
