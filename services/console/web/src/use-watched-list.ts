/**
 * A list kept current by a watch (list, then watch from its resourceVersion; list again on ERROR/410 or when the
 * stream ends), for as long as the component is on the page. Not polling: one stream per list.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, query, type Api, type KubeList } from "./api.js";
import { applyWatchEvent, fromList, type ListState, type Listed } from "./watch.js";

export interface WatchedList<T extends Listed> {
  /** Undefined until the first list arrives. */
  readonly items: readonly T[] | undefined;
  readonly error: unknown;
  /** Whether the watch stream is open (shown to the user as live / reconnecting). */
  readonly live: boolean;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

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
    const aborted = (): boolean => ctrl.signal.aborted;
    const run = async (): Promise<void> => {
      let failures = 0;
      while (!ctrl.signal.aborted) {
        try {
          let current = fromList(await api.get<KubeList<T>>(`${path}${query(params)}`));
          setState(current);
          setError(undefined);
          setLive(true);
          await api.watch<T>(
            path,
            { ...params, resourceVersion: current.resourceVersion },
            (event) => {
              const next = applyWatchEvent(current, event);
              if (next === "relist") return "stop";
              current = next;
              setState(next);
              return undefined;
            },
            ctrl.signal,
          );
          failures = 0;
        } catch (err) {
          if (aborted()) return;
          setError(err);
          failures++;
          // Signed out: the app goes back to the sign-in page; nothing to retry.
          if (err instanceof ApiError && err.status === 401) return;
        }
        setLive(false);
        await sleep(failures ? Math.min(30_000, 1000 * 2 ** failures) : 1000, ctrl.signal);
      }
    };
    void run();
    return () => {
      ctrl.abort();
      setLive(false);
    };
    // params is compared by value (paramsKey).
  }, [api, path, paramsKey]);
  return { items: state?.items, error, live };
}
