/**
 * The inputs of a generated form, one component per field kind: text, numbers, booleans, enums as selects, nested
 * objects as fieldsets, arrays with add/remove, maps as key/value rows. Each input has a label, its description as
 * help text, and the problems named for its path next to it (aria-describedby, aria-invalid).
 */
import type { JSX } from "preact";
import { childPath, emptyValue, type FieldModel, type FormValue } from "./schema-form.js";

export type At = readonly (string | number)[];

export interface FieldProps {
  readonly model: FieldModel;
  readonly value: FormValue;
  /** The field's path as the apiserver names it (`spec.a.list[0]`). */
  readonly path: string;
  /** Where its value is in the form's values (for setAt). */
  readonly at: At;
  readonly label: string;
  readonly errors: ReadonlyMap<string, readonly string[]>;
  readonly onChange: (at: At, next: FormValue) => void;
}

/** A DOM id for a field path (`spec.list[0].name` -> `field-spec-list-0-name`). */
export function fieldId(path: string, prefix = "field"): string {
  return `${prefix}-${path.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/-+$/, "")}`;
}

function describedBy(path: string, hasHelp: boolean, hasErrors: boolean): string | undefined {
  const ids = [hasHelp ? fieldId(path, "help") : "", hasErrors ? fieldId(path, "error") : ""];
  const s = ids.filter(Boolean).join(" ");
  return s || undefined;
}

function Help(props: { readonly path: string; readonly text?: string }): JSX.Element | null {
  return props.text ? (
    <p class="help" id={fieldId(props.path, "help")}>
      {props.text}
    </p>
  ) : null;
}

function Problems(props: {
  readonly path: string;
  readonly errors: ReadonlyMap<string, readonly string[]>;
}): JSX.Element | null {
  const list = props.errors.get(props.path);
  if (!list?.length) return null;
  return (
    <ul
      class="field-error"
      id={fieldId(props.path, "error")}
      data-testid="field-error"
      data-for={props.path}
    >
      {list.map((m, i) => (
        <li key={i}>{m}</li>
      ))}
    </ul>
  );
}

function LabelText(props: { readonly label: string; readonly required: boolean }): JSX.Element {
  return (
    <>
      {props.label}
      {props.required && <span class="required"> (required)</span>}
    </>
  );
}

export function Field(props: FieldProps): JSX.Element {
  switch (props.model.kind) {
    case "object":
      return <ObjectField {...props} />;
    case "array":
      return <ArrayField {...props} />;
    case "map":
      return <MapField {...props} />;
    case "boolean":
      return <BooleanField {...props} />;
    case "enum":
      return <EnumField {...props} />;
    default:
      return <TextField {...props} />;
  }
}

/** The fields of an object, each under its own path (used for the form's root too, without a fieldset). */
export function ObjectFields(props: FieldProps): JSX.Element | null {
  const { model, value } = props;
  if (model.kind !== "object" || value.t !== "object") return null;
  return (
    <>
      {model.fields.map((f) => {
        const v = value.fields[f.name];
        if (!v) return null;
        return (
          <Field
            key={f.name}
            model={f}
            value={v}
            path={childPath(props.path, f.name)}
            at={[...props.at, f.name]}
            label={f.name}
            errors={props.errors}
            onChange={props.onChange}
          />
        );
      })}
    </>
  );
}

function ObjectField(props: FieldProps): JSX.Element {
  const { model, path } = props;
  const hasErrors = Boolean(props.errors.get(path)?.length);
  return (
    <fieldset
      class="group"
      data-group={path}
      aria-describedby={describedBy(path, Boolean(model.description), hasErrors)}
    >
      <legend>
        <LabelText label={props.label} required={model.required} />
      </legend>
      <Help path={path} text={model.description} />
      <Problems path={path} errors={props.errors} />
      <ObjectFields {...props} />
    </fieldset>
  );
}

function ArrayField(props: FieldProps): JSX.Element | null {
  const { model, value, path } = props;
  if (model.kind !== "array" || value.t !== "array") return null;
  const hasErrors = Boolean(props.errors.get(path)?.length);
  const set = (items: readonly FormValue[]): void => {
    props.onChange(props.at, { t: "array", items });
  };
  return (
    <fieldset
      class="group"
      data-group={path}
      aria-describedby={describedBy(path, Boolean(model.description), hasErrors)}
    >
      <legend>
        <LabelText label={props.label} required={model.required} />
      </legend>
      <Help path={path} text={model.description} />
      <Problems path={path} errors={props.errors} />
      {value.items.map((item, i) => (
        <div class="item" key={i} data-testid="array-item">
          <Field
            model={{ ...model.item, required: false }}
            value={item}
            path={childPath(path, i)}
            at={[...props.at, i]}
            label={`${props.label} ${i + 1}`}
            errors={props.errors}
            onChange={props.onChange}
          />
          <button
            type="button"
            class="secondary"
            data-testid="remove-item"
            data-for={childPath(path, i)}
            onClick={() => {
              set(value.items.filter((_, j) => j !== i));
            }}
          >
            Remove {props.label} {i + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary"
        data-testid="add-item"
        data-for={path}
        onClick={() => {
          set([...value.items, emptyValue(model.item)]);
        }}
      >
        Add to {props.label}
      </button>
    </fieldset>
  );
}

function MapField(props: FieldProps): JSX.Element | null {
  const { model, value, path } = props;
  if (model.kind !== "map" || value.t !== "map") return null;
  const hasErrors = Boolean(props.errors.get(path)?.length);
  const set = (entries: readonly { key: string; value: FormValue }[]): void => {
    props.onChange(props.at, { t: "map", entries });
  };
  return (
    <fieldset
      class="group"
      data-group={path}
      aria-describedby={describedBy(path, Boolean(model.description), hasErrors)}
    >
      <legend>
        <LabelText label={props.label} required={model.required} />
      </legend>
      <Help path={path} text={model.description} />
      <Problems path={path} errors={props.errors} />
      {value.entries.map((entry, i) => {
        const keyId = fieldId(`${path}[${i}]`, "key");
        return (
          <div class="item map-row" key={i} data-testid="map-row">
            <div class="field">
              <label for={keyId}>
                {props.label} key {i + 1}
              </label>
              <input
                id={keyId}
                type="text"
                autocomplete="off"
                data-path={`${path}[${i}].key`}
                value={entry.key}
                onInput={(e) => {
                  const key = e.currentTarget.value;
                  set(value.entries.map((x, j) => (j === i ? { key, value: x.value } : x)));
                }}
              />
            </div>
            <Field
              model={{ ...model.value, required: false }}
              value={entry.value}
              path={childPath(path, entry.key.trim() || `?${i}`)}
              at={[...props.at, i]}
              label={`${props.label} value ${i + 1}`}
              errors={props.errors}
              onChange={props.onChange}
            />
            <button
              type="button"
              class="secondary"
              data-testid="remove-item"
              data-for={`${path}[${i}]`}
              onClick={() => {
                set(value.entries.filter((_, j) => j !== i));
              }}
            >
              Remove {props.label} row {i + 1}
            </button>
          </div>
        );
      })}
      <button
        type="button"
        class="secondary"
        data-testid="add-item"
        data-for={path}
        onClick={() => {
          set([...value.entries, { key: "", value: emptyValue(model.value) }]);
        }}
      >
        Add to {props.label}
      </button>
    </fieldset>
  );
}

function inputAttrs(props: FieldProps): {
  id: string;
  "data-path": string;
  "aria-describedby"?: string;
  "aria-invalid"?: "true";
  "aria-required"?: "true";
} {
  const hasErrors = Boolean(props.errors.get(props.path)?.length);
  const d = describedBy(props.path, Boolean(props.model.description), hasErrors);
  return {
    id: fieldId(props.path),
    "data-path": props.path,
    ...(d ? { "aria-describedby": d } : {}),
    ...(hasErrors ? { "aria-invalid": "true" as const } : {}),
    ...(props.model.required ? { "aria-required": "true" as const } : {}),
  };
}

function FieldShell(props: FieldProps & { readonly children: JSX.Element }): JSX.Element {
  return (
    <div class="field">
      <label for={fieldId(props.path)}>
        <LabelText label={props.label} required={props.model.required} />
      </label>
      {props.children}
      <Help path={props.path} text={props.model.description} />
      <Problems path={props.path} errors={props.errors} />
    </div>
  );
}

function TextField(props: FieldProps): JSX.Element | null {
  const { model, value } = props;
  if (value.t !== "text") return null;
  const change = (text: string): void => {
    props.onChange(props.at, { t: "text", text });
  };
  const numeric = model.kind === "integer" || model.kind === "number";
  const input =
    model.kind === "json" ? (
      <textarea
        {...inputAttrs(props)}
        rows={4}
        spellcheck={false}
        value={value.text}
        onInput={(e) => {
          change(e.currentTarget.value);
        }}
      />
    ) : (
      <input
        {...inputAttrs(props)}
        type="text"
        autocomplete="off"
        inputMode={numeric ? (model.kind === "integer" ? "numeric" : "decimal") : undefined}
        value={value.text}
        onInput={(e) => {
          change(e.currentTarget.value);
        }}
      />
    );
  return <FieldShell {...props}>{input}</FieldShell>;
}

function BooleanField(props: FieldProps): JSX.Element | null {
  const { model, value } = props;
  if (value.t !== "bool") return null;
  const set = (v: boolean | undefined): void => {
    props.onChange(props.at, { t: "bool", value: v });
  };
  // A checkbox cannot say "not set": an optional boolean without a default is a choice of three.
  if (model.required || model.default !== undefined)
    return (
      <div class="field check">
        <input
          {...inputAttrs(props)}
          type="checkbox"
          checked={value.value === true}
          onChange={(e) => {
            set(e.currentTarget.checked);
          }}
        />
        <label for={fieldId(props.path)}>
          <LabelText label={props.label} required={model.required} />
        </label>
        <Help path={props.path} text={model.description} />
        <Problems path={props.path} errors={props.errors} />
      </div>
    );
  return (
    <FieldShell {...props}>
      <select
        {...inputAttrs(props)}
        value={value.value === undefined ? "" : String(value.value)}
        onChange={(e) => {
          const v = e.currentTarget.value;
          set(v === "" ? undefined : v === "true");
        }}
      >
        <option value="">(not set)</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    </FieldShell>
  );
}

function EnumField(props: FieldProps): JSX.Element | null {
  const { model, value } = props;
  if (model.kind !== "enum" || value.t !== "text") return null;
  return (
    <FieldShell {...props}>
      <select
        {...inputAttrs(props)}
        value={value.text}
        onChange={(e) => {
          props.onChange(props.at, { t: "text", text: e.currentTarget.value });
        }}
      >
        {(!model.required || value.text === "") && <option value="">(not set)</option>}
        {model.options.map((o) => {
          const text = typeof o === "string" ? o : JSON.stringify(o);
          return (
            <option key={text} value={text}>
              {text}
            </option>
          );
        })}
      </select>
    </FieldShell>
  );
}
