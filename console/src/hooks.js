// Small hooks shared by the pages: load from the API, poll it, debounce, act on a list, open an edit form.
import { useCallback, useEffect, useRef, useState } from '../vendor/preact.js';

/** Calls `load()` when `deps` change; `reload()` calls it again. Stale answers are dropped. */
export function useApi(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    return load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState((previous) => ({ ...previous, error, loading: false })),
    );
  }, deps);
  useEffect(() => {
    run();
  }, [run]);
  const setData = (data) => setState((previous) => ({ ...previous, data }));
  return { ...state, reload: run, setData };
}

/**
 * Calls `tick()` now and then every `delayMs` after each call settles (a slow answer never piles
 * calls up); `delayMs` null stops. The latest `tick` is always the one called.
 */
export function usePolling(tick, delayMs) {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (delayMs == null) return undefined;
    let timer;
    let stopped = false;
    const loop = async () => {
      try {
        await latest.current();
      } finally {
        if (!stopped) timer = setTimeout(loop, delayMs);
      }
    };
    timer = setTimeout(loop, delayMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [delayMs]);
}

/** `fn` called once the calls to the returned function have paused for `delayMs`. */
export function useDebouncedCallback(fn, delayMs) {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef();
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback((...args) => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => latest.current(...args), delayMs);
  }, [delayMs]);
}

/** A cursor-paginated list: the first page now, `loadMore()` for the next (the API's nextCursor). */
export function usePaged(fetchPage, deps) {
  const [state, setState] = useState({ items: [], nextCursor: null, error: null, loading: true });
  const generation = useRef(0);
  const load = useCallback((cursor) => {
    const mine = cursor ? generation.current : ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    return fetchPage(cursor).then(
      (page) => mine === generation.current && setState((previous) => ({
        items: cursor ? [...previous.items, ...page.items] : page.items,
        nextCursor: page.nextCursor ?? null,
        error: null,
        loading: false,
      })),
      (error) => mine === generation.current && setState((previous) => ({ ...previous, error, loading: false })),
    );
  }, deps);
  useEffect(() => {
    load(null);
  }, [load]);
  return { ...state, reload: () => load(null), loadMore: () => state.nextCursor && load(state.nextCursor) };
}

/**
 * The row actions of a list (enable, disable, delete...): `act(action, message)` runs one, then says
 * `message` or the error (`outcome`) and reloads the list (`useApi`'s `reload`).
 */
export function useActions(list) {
  const [outcome, setOutcome] = useState({ error: null, message: null });
  async function act(action, message) {
    setOutcome({ error: null, message: null });
    try {
      await action();
      setOutcome({ error: null, message });
      list.reload();
    } catch (error) {
      setOutcome({ error, message: null });
    }
  }
  return { outcome, setOutcome, act };
}

/** The ref of an edit form's panel: when it opens on an existing item (Edit pressed on a row above),
 *  it comes to the user, scrolled to and focused on its name. */
export function useFormPanel(editingExisting) {
  const panel = useRef();
  useEffect(() => {
    if (editingExisting) {
      panel.current?.scrollIntoView({ block: 'start' });
      panel.current?.querySelector('input[name="name"]')?.focus();
    }
  }, []);
  return panel;
}
