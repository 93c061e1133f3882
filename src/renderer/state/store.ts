// A minimal external store for React (useSyncExternalStore): components select the slice they
// draw, so an update re-renders only the components whose slice changed.
import { useRef, useSyncExternalStore } from 'react';

export interface Store<S> {
  get(): S;
  set(next: S | ((s: S) => S)): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(next) {
      const s = typeof next === 'function' ? (next as (s: S) => S)(state) : next;
      if (Object.is(s, state)) return;
      state = s;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Subscribes to `select(state)`; `equal` lets a selector that builds objects or arrays stay stable. */
export function useStore<S, T>(store: Store<S>, select: (s: S) => T, equal: (a: T, b: T) => boolean = Object.is): T {
  // Cached per (state, selector): an inline selector that closes over props is re-run when they change.
  const cache = useRef<{ state: S; select: (s: S) => T; value: T } | null>(null);
  const getSnapshot = () => {
    const s = store.get();
    const c = cache.current;
    if (c && c.state === s && c.select === select) return c.value;
    const v = select(s);
    if (c && equal(c.value, v)) {
      cache.current = { state: s, select, value: c.value };
      return c.value;
    }
    cache.current = { state: s, select, value: v };
    return v;
  };
  return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot);
}

export function shallowEqual<T>(a: T, b: T): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
