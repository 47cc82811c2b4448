/**
 * Polling for the console's pages: a task run now and again a while after
 * each run has ended, so a slow server never has two of a page's loads at
 * once (a fixed interval would pile them up).
 */

/**
 * Runs `task` now and `everyMs` after each run has ended (`everyMs` undefined: once), until the returned stop is
 * called; stop aborts the signal the task was given and clears the next run. The task handles its own errors.
 */
export function pollAfterEach(everyMs: number | undefined, task: (signal: AbortSignal) => Promise<void>): () => void {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = (): void => {
    void task(abort.signal).finally(() => {
      if (everyMs !== undefined && !abort.signal.aborted) timer = setTimeout(run, everyMs);
    });
  };
  run();
  return () => {
    abort.abort();
    clearTimeout(timer);
  };
}
