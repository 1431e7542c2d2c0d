/** The sign-in page: a kubeconfig pasted or picked from a file (read here, sent once, never stored), a context. */
import type { JSX, TargetedEvent, TargetedSubmitEvent } from "preact";
import { useState } from "preact/hooks";
import type { Api, Session } from "./api.js";
import { ErrorBox, useTitle } from "./ui.js";

export function SignIn(props: {
  readonly api: Api;
  readonly onSignedIn: (s: Session) => void;
}): JSX.Element {
  useTitle("Sign in");
  const [kubeconfig, setKubeconfig] = useState("");
  const [context, setContext] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const pickFile = async (e: TargetedEvent<HTMLInputElement>): Promise<void> => {
    const file = e.currentTarget.files?.[0];
    if (file) setKubeconfig(await file.text());
  };

  const submit = async (e: TargetedSubmitEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    if (!kubeconfig.trim()) {
      setError(new Error("Paste a kubeconfig or choose its file first."));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await props.api.signIn(kubeconfig, context.trim() || undefined);
      setKubeconfig("");
      props.onSignedIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section data-testid="page-sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>
        Sign in with your kubeconfig (the consumer or provider kubeconfig KubePlus gave you). The
        console keeps its credentials on the server for this session only and acts with them: you
        see and change what they allow.
      </p>
      <form id="sign-in-form" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="kubeconfig">Kubeconfig (YAML or JSON)</label>
          <textarea
            id="kubeconfig"
            rows={10}
            spellcheck={false}
            autocomplete="off"
            value={kubeconfig}
            onInput={(e) => {
              setKubeconfig(e.currentTarget.value);
            }}
          />
        </div>
        <div class="field">
          <label for="kubeconfig-file">Or choose the kubeconfig file</label>
          <input id="kubeconfig-file" type="file" onChange={(e) => void pickFile(e)} />
        </div>
        <div class="field">
          <label for="context">
            Context (optional; the kubeconfig's current context otherwise)
          </label>
          <input
            id="context"
            type="text"
            autocomplete="off"
            value={context}
            onInput={(e) => {
              setContext(e.currentTarget.value);
            }}
          />
        </div>
        <ErrorBox id="sign-in-error" error={error} />
        <button id="sign-in" type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}
