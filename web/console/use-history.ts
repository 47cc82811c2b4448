/**
 * The history pages' shared loading: the site (cameras, zones, lines, whether
 * history is on) once per page, and a chart's window polled while it is shown.
 */
import { useEffect, useState } from 'preact/hooks';
import { errorText } from './format.js';
import { type CamerasAnswer, getCameras, refreshMs, type Window } from './history-api.js';
import { pollAfterEach } from './poll.js';

/** /api/v1/cameras, once. Its failure is its own: a later load of the page's data does not clear it. */
export function useSite(): { site: CamerasAnswer | undefined; siteError: string | undefined } {
  const [site, setSite] = useState<CamerasAnswer | undefined>();
  const [siteError, setSiteError] = useState<string | undefined>();
  useEffect(
    () =>
      pollAfterEach(undefined, (signal) =>
        getCameras(signal).then(setSite, (err: unknown) => {
          if (!signal.aborted) setSiteError(errorText(err));
        }),
      ),
    [],
  );
  return { site, siteError };
}

/**
 * What `load` answers for `query` (a chart's camera, series and range of `seconds`), asked again as the range's
 * refresh says. `load` gets the step a server named when it refused a finer one, so a refresh does not ask again.
 * The next load is scheduled when this one has ended (a slow server never has two of a page's loads at once), and
 * an answer for a query no longer shown is dropped: a page switched to another shows nothing of the previous one's.
 */
export function usePolledWindow<L extends { window: Window }>(
  query: string,
  seconds: number,
  load: (signal: AbortSignal, step: number | undefined) => Promise<L>,
): { loaded: L | undefined; error: string | undefined } {
  const [shown, setShown] = useState<{ query: string; value: L } | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    setShown(undefined);
    setError(undefined);
    let step: number | undefined;
    return pollAfterEach(refreshMs(seconds), (signal) =>
      load(signal, step).then(
        (value) => {
          if (signal.aborted) return;
          step = value.window.step;
          setShown({ query, value });
          setError(undefined);
        },
        (err: unknown) => {
          if (!signal.aborted) setError(errorText(err));
        },
      ),
    );
  }, [query]);
  return { loaded: shown?.query === query ? shown.value : undefined, error };
}
