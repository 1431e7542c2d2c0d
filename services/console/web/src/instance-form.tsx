/**
 * Create or edit an instance with the form generated from its kind's schema. Create POSTs a new object; edit PUTs
 * the object read (its resourceVersion kept: a change made meanwhile is refused as a conflict, not overwritten).
 * A refusal is shown next to the fields it names, the rest at the top.
 */
import type { JSX, TargetedSubmitEvent } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, instancesPath, type Api, type CatalogKind } from "./api.js";
import { fieldId, ObjectFields, Field, type At } from "./form-fields.js";
import { parseRefusal, placeProblems, type PlacedRefusal } from "./refusal.js";
import { routeHash } from "./routes.js";
import {
  buildValue,
  fieldPaths,
  keepUndescribed,
  schemaToModel,
  setAt,
  valueFromData,
  type FieldModel,
  type FieldProblem,
  type FormValue,
} from "./schema-form.js";
import { ErrorBox, useTitle } from "./ui.js";

interface InstanceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & { name?: string };
  spec?: unknown;
}

const NAME_PATH = "metadata.name";
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The problems the form finds before sending: the name, and buildValue's. */
function localProblems(
  name: string,
  creating: boolean,
  problems: readonly FieldProblem[],
): FieldProblem[] {
  const out = [...problems];
  if (creating && !name) out.unshift({ path: NAME_PATH, message: "is required" });
  else if (creating && (!DNS_NAME.test(name) || name.length > 63))
    out.unshift({
      path: NAME_PATH,
      message:
        "must be lower-case letters, digits and '-', start and end with a letter or digit (at most 63)",
    });
  return out;
}

interface Target {
  readonly api: Api;
  readonly kind: CatalogKind;
  readonly namespace: string;
}

/** Sends the instance (create or replace); the refusal, placed on the form's fields, when it is refused. */
async function send(
  t: Target,
  instance: { readonly name: string; readonly existing?: InstanceObject; readonly spec: unknown },
  paths: readonly string[],
): Promise<PlacedRefusal | undefined> {
  const { api, kind, namespace } = t;
  try {
    if (instance.existing)
      await api.replace(instancesPath(kind, namespace, instance.name), {
        ...instance.existing,
        spec: instance.spec,
      });
    else
      await api.create(instancesPath(kind, namespace), {
        apiVersion: `${kind.group}/${kind.version}`,
        kind: kind.kind,
        metadata: { name: instance.name, namespace },
        spec: instance.spec,
      });
    return undefined;
  } catch (err) {
    const refusal =
      err instanceof ApiError
        ? parseRefusal(err.body)
        : { summary: err instanceof Error ? err.message : String(err), problems: [] };
    return placeProblems(refusal, paths);
  }
}

/** The form's values: the defaults for a new instance, the instance's spec when editing (read here). */
function useFormValue(
  t: Target,
  model: FieldModel,
  name: string | undefined,
): {
  value: FormValue | undefined;
  setValue: (f: (v: FormValue | undefined) => FormValue | undefined) => void;
  existing: InstanceObject | undefined;
  loadError: unknown;
} {
  const { api, kind, namespace } = t;
  const [value, setValue] = useState<FormValue | undefined>(() =>
    name === undefined ? valueFromData(model, undefined) : undefined,
  );
  const [existing, setExisting] = useState<InstanceObject | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  useEffect(() => {
    if (name === undefined) return;
    api.get<InstanceObject>(instancesPath(kind, namespace, name)).then(
      (obj) => {
        setExisting(obj);
        setValue(() => valueFromData(model, obj.spec ?? {}));
      },
      (err: unknown) => {
        setLoadError(err);
      },
    );
  }, [api, kind, namespace, name, model]);
  return { value, setValue, existing, loadError };
}

export function InstanceForm(props: Target & { readonly name?: string }): JSX.Element {
  const { kind, namespace, name } = props;
  const creating = name === undefined;
  useTitle(formTexts(kind, name).title);
  const model = useMemo(() => schemaToModel(kind.schema ?? {}, "spec", true), [kind]);
  const { value, setValue, existing, loadError } = useFormValue(props, model, name);
  const [newName, setNewName] = useState("");
  const [placed, setPlaced] = useState<PlacedRefusal | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  if (loadError !== undefined) return <ErrorBox id="form-load-error" error={loadError} />;
  if (value === undefined) return <p role="status">Loading…</p>;

  const rootIsObject = model.kind === "object";
  const paths = [
    NAME_PATH,
    ...fieldPaths(model, value, "spec").filter((p) => p !== "spec" || !rootIsObject),
  ];
  const errors = placed?.byField ?? new Map<string, readonly string[]>();
  const onChange = (at: At, next: FormValue): void => {
    setValue((v) => (v === undefined ? v : setAt(v, at, next)));
  };
  const target = name ?? newName.trim();
  const texts = formTexts(kind, name);

  const submit = async (e: TargetedSubmitEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const built = buildValue(model, value, "spec");
    const local = localProblems(target, creating, built.problems);
    if (local.length) {
      const problems = local.map((p) => ({ field: p.path, message: p.message }));
      setPlaced(placeProblems({ summary: "Correct the fields below.", problems }, paths));
      return;
    }
    setBusy(true);
    setPlaced(undefined);
    const spec = existing
      ? keepUndescribed(model, existing.spec, built.value ?? {})
      : (built.value ?? {});
    const refused = await send(props, { name: target, existing, spec }, paths);
    setBusy(false);
    if (refused) setPlaced(refused);
    else location.hash = routeHash({ page: "instance", plural: kind.plural, name: target });
  };

  const fieldProps = { model, value, path: "spec", at: [], label: "spec", errors, onChange };
  return (
    <section data-testid="page-form" aria-labelledby="form-title">
      <h1 id="form-title">{texts.title}</h1>
      <p class="muted">
        Namespace <strong>{namespace}</strong>. The fields come from the kind's schema; optional
        fields left empty are left out.
      </p>
      <TopErrors messages={placed?.top ?? []} />
      <form id="instance-form" noValidate onSubmit={(e) => void submit(e)}>
        {creating && (
          <NameField value={newName} errors={errors.get(NAME_PATH) ?? []} onInput={setNewName} />
        )}
        {rootIsObject ? <ObjectFields {...fieldProps} /> : <Field {...fieldProps} />}
        <div class="actions">
          <button id="submit" type="submit" disabled={busy}>
            {busy ? "Sending…" : texts.submit}
          </button>
          <a class="button secondary" href={texts.back}>
            Cancel
          </a>
        </div>
      </form>
    </section>
  );
}

function formTexts(
  kind: CatalogKind,
  name: string | undefined,
): { title: string; submit: string; back: string } {
  if (name === undefined)
    return {
      title: `New ${kind.kind}`,
      submit: "Create",
      back: routeHash({ page: "kind", plural: kind.plural }),
    };
  return {
    title: `Edit ${kind.kind} ${name}`,
    submit: "Save",
    back: routeHash({ page: "instance", plural: kind.plural, name }),
  };
}

/** The problems of no field the form shows (and the summary), focused when they appear. */
function TopErrors(props: { readonly messages: readonly string[] }): JSX.Element {
  const ref = useRef<HTMLDivElement>(null);
  const { messages } = props;
  useEffect(() => {
    if (messages.length) ref.current?.focus();
  }, [messages]);
  return (
    <div id="form-errors" ref={ref} tabIndex={-1} role="alert">
      {messages.length > 0 && (
        <ul class="error">
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function NameField(props: {
  readonly value: string;
  readonly errors: readonly string[];
  readonly onInput: (v: string) => void;
}): JSX.Element {
  const invalid = props.errors.length > 0;
  return (
    <div class="field">
      <label for={fieldId(NAME_PATH)}>
        Name<span class="required"> (required)</span>
      </label>
      <input
        id={fieldId(NAME_PATH)}
        data-path={NAME_PATH}
        type="text"
        autocomplete="off"
        aria-required="true"
        aria-invalid={invalid ? "true" : undefined}
        aria-describedby={invalid ? fieldId(NAME_PATH, "error") : undefined}
        value={props.value}
        onInput={(e) => {
          props.onInput(e.currentTarget.value);
        }}
      />
      {invalid && (
        <ul
          class="field-error"
          id={fieldId(NAME_PATH, "error")}
          data-testid="field-error"
          data-for={NAME_PATH}
        >
          {props.errors.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
