import {
  ADD,
  DELETE,
  ERROR,
  makeInformer,
  UPDATE,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from "@kubernetes/client-node";

export interface WatchedCache<T extends KubernetesObject> {
  list(namespace?: string): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** Called on every add, update and delete (level-based consumers re-read what they need). */
  onChange(fn: (obj: T, event: "add" | "update" | "delete") => void): void;
  stop(): Promise<void>;
}

export interface CacheOptions<T extends KubernetesObject> {
  readonly kc: KubeConfig;
  /** API path watched, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly labelSelector?: string;
  /** Reports watch errors; the cache restarts its watch after `restartMs`. */
  readonly onError?: (err: unknown) => void;
  readonly restartMs?: number;
}

/**
 * A list-and-watch cache (client-node informer) that is filled before it is returned and restarts its watch after
 * errors: admission handlers read it instead of calling the apiserver on every request.
 */
export async function startCache<T extends KubernetesObject>(
  options: CacheOptions<T>,
): Promise<WatchedCache<T>> {
  // makeInformer returns a ListWatch, which is both the informer and its object cache.
  const informer = makeInformer<T>(
    options.kc,
    options.path,
    options.list,
    options.labelSelector,
  ) as Informer<T> & ObjectCache<T>;
  const listeners: ((obj: T, event: "add" | "update" | "delete") => void)[] = [];
  let stopped = false;
  // The emitted object is the one the cache keeps: dropping its managedFields (as controller-runtime's
  // TransformStripManagedFields does) roughly halves what a cache of namespaces or instances holds in memory.
  const slim = (o: T): T => {
    if (o.metadata) delete o.metadata.managedFields;
    return o;
  };
  informer.on(ADD, (o) => {
    listeners.forEach((l) => l(slim(o), "add"));
  });
  informer.on(UPDATE, (o) => {
    listeners.forEach((l) => l(slim(o), "update"));
  });
  informer.on(DELETE, (o) => {
    listeners.forEach((l) => l(o, "delete"));
  });
  informer.on(ERROR, (err) => {
    options.onError?.(err);
    if (!stopped) {
      setTimeout(() => {
        if (!stopped) informer.start().catch((e: unknown) => options.onError?.(e));
      }, options.restartMs ?? 2_000);
    }
  });
  await informer.start();
  return {
    list: (namespace) => informer.list(namespace),
    get: (name, namespace) => informer.get(name, namespace),
    onChange: (fn) => listeners.push(fn),
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
  };
}
