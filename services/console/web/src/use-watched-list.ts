/**
 * A list kept current by a watch (list, then watch from its resourceVersion; list again on ERROR/410 or when the
 * stream ends), for as long as the component is on the page. Not polling: one stream per list.
 */
import { useEffect, useState } from "preact/hooks";
import type { Api } from "./api.js";
import type { ListState, Listed } from "./watch.js";
import { runListWatch } from "./watch-loop.js";

export interface WatchedList<T extends Listed> {
  /** Undefined until the first list arrives. */
  readonly items: readonly T[] | undefined;
  readonly error: unknown;
  /** Whether the watch stream is open (shown to the user as live / reconnecting). */
  readonly live: boolean;
}

/** Watches `path` (an apiserver list path) with these query parameters; nothing while path is undefined. */
export function useWatchedList<T extends Listed>(
  api: Api,
  path: string | undefined,
  params: Readonly<Record<string, string | undefined>> = {},
): WatchedList<T> {
  const [state, setState] = useState<ListState<T> | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [live, setLive] = useState(false);
  const paramsKey = JSON.stringify(params);
  useEffect(() => {
    setState(undefined);
    setError(undefined);
    if (!path) return;
    const ctrl = new AbortController();
    void runListWatch<T>(
      api,
      { path, params },
      { onState: setState, onError: setError, onLive: setLive },
      { signal: ctrl.signal },
    );
    return () => {
      ctrl.abort();
      setLive(false);
    };
    // params is compared by value (paramsKey).
  }, [api, path, paramsKey]);
  return { items: state?.items, error, live };
}
