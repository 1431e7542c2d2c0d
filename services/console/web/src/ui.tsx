/** Small pieces every page uses. Every server string is rendered as text (JSX children), never as HTML. */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "./api.js";

/** An error's message for people: the apiserver's or console's own message, else the exception's. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** An error shown where it happened (role=alert: read out when it appears). */
export function ErrorBox(props: {
  readonly error: unknown;
  readonly id?: string;
}): JSX.Element | null {
  if (props.error === undefined || props.error === null) return null;
  return (
    <p class="error" role="alert" id={props.id}>
      {errorText(props.error)}
    </p>
  );
}

/** A table that scrolls sideways on a narrow screen (focusable, so that a keyboard can scroll it). */
export function TableBox(props: {
  readonly label: string;
  readonly children: ComponentChildren;
}): JSX.Element {
  return (
    <div class="table-box" role="region" aria-label={props.label} tabIndex={0}>
      {props.children}
    </div>
  );
}

/** The current time, ticking every `ms` (for AGE columns: a clock, not a poll of the server). */
export function useNow(ms = 5000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => {
      setNow(new Date());
    }, ms);
    return () => {
      clearInterval(t);
    };
  }, [ms]);
  return now;
}

/** Sets the document's title for a page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · KubePlus console`;
  }, [title]);
}
