/** A container's log, followed: the text streams in as the apiserver sends it and is shown as text (never HTML). */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Api } from "./api.js";
import { appendLog } from "./log-buffer.js";
import { ErrorBox } from "./ui.js";

export function LogView(props: {
  readonly api: Api;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly onClose: () => void;
}): JSX.Element {
  const { api, namespace, pod, container } = props;
  const [text, setText] = useState("");
  const [state, setState] = useState<"following" | "ended">("following");
  const [error, setError] = useState<unknown>(undefined);
  const pre = useRef<HTMLPreElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setText("");
    setError(undefined);
    setState("following");
    heading.current?.focus();
    const ctrl = new AbortController();
    api
      .followLog(
        { namespace, pod, container },
        (chunk) => {
          setText((t) => appendLog(t, chunk));
        },
        ctrl.signal,
      )
      .then(
        () => {
          if (!ctrl.signal.aborted) setState("ended");
        },
        (err: unknown) => {
          if (ctrl.signal.aborted) return;
          setError(err);
          setState("ended");
        },
      );
    return () => {
      ctrl.abort();
    };
  }, [api, namespace, pod, container]);

  useEffect(() => {
    const el = pre.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [text]);

  return (
    <section id="log-view" aria-labelledby="log-title" data-pod={pod} data-container={container}>
      <h2 id="log-title" ref={heading} tabIndex={-1}>
        Log of {pod} / {container}
      </h2>
      <p id="log-state" role="status">
        {state === "following" ? "following…" : "the log ended"}
      </p>
      <ErrorBox id="log-error" error={error} />
      <pre id="log" ref={pre} tabIndex={0} aria-label={`Log of ${container}`}>
        {text}
      </pre>
      <button id="log-close" type="button" class="secondary" onClick={props.onClose}>
        Stop following
      </button>
    </section>
  );
}
