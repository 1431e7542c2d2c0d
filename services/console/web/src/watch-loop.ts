/**
 * The reflector loop behind every live list: list, watch from the list's resourceVersion applying each event, and
 * list again when the watch says so (an ERROR event: 410 Gone) or its stream ends; after a failure, wait (1 s, 2 s,
 * 4 s... at most 30 s) and try again; stop on a 401 (signed out) or when `signal` aborts.
 */
import { ApiError, query, type KubeList } from "./api.js";
import {
  applyWatchEvent,
  fromList,
  type ListState,
  type Listed,
  type WatchEvent,
} from "./watch.js";

/** What the loop needs of the Api (so that a test can give it a fake). */
export interface ListWatcher {
  get<T>(path: string): Promise<T>;
  watch<T extends Listed>(
    path: string,
    params: Readonly<Record<string, string | undefined>>,
    onEvent: (event: WatchEvent<T>) => "stop" | undefined,
    signal: AbortSignal,
  ): Promise<void>;
}

export interface LoopCallbacks<T extends Listed> {
  readonly onState: (state: ListState<T>) => void;
  readonly onError: (err: unknown) => void;
  readonly onLive: (live: boolean) => void;
}

export const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

/** The wait before the next list: 1 s after a watch that ended, doubling after each failure in a row, 30 s at most. */
export function backoffMs(failures: number): number {
  return failures ? Math.min(30_000, 1000 * 2 ** failures) : 1000;
}

export async function runListWatch<T extends Listed>(
  api: ListWatcher,
  target: { readonly path: string; readonly params: Readonly<Record<string, string | undefined>> },
  cb: LoopCallbacks<T>,
  run: {
    readonly signal: AbortSignal;
    /** How to wait between lists (a test gives one that does not). */
    readonly wait?: (ms: number, signal: AbortSignal) => Promise<void>;
  },
): Promise<void> {
  const { path, params } = target;
  const { signal, wait = sleep } = run;
  const aborted = (): boolean => signal.aborted;
  let failures = 0;
  while (!signal.aborted) {
    try {
      let current = fromList(await api.get<KubeList<T>>(`${path}${query(params)}`));
      cb.onState(current);
      cb.onError(undefined);
      cb.onLive(true);
      await api.watch<T>(
        path,
        { ...params, resourceVersion: current.resourceVersion },
        (event) => {
          const next = applyWatchEvent(current, event);
          if (next === "relist") return "stop";
          current = next;
          cb.onState(next);
          return undefined;
        },
        signal,
      );
      failures = 0;
    } catch (err) {
      if (aborted()) return;
      cb.onError(err);
      failures++;
      // Signed out: the app goes back to the sign-in page; nothing to retry.
      if (err instanceof ApiError && err.status === 401) return;
    }
    cb.onLive(false);
    await wait(backoffMs(failures), signal);
  }
}
