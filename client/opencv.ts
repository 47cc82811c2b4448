/**
 * Lazy loader for @u4/opencv4nodejs, an optional dependency: `crowdline serve`
 * must work without it, so only the client and demo load it, on demand.
 *
 * The binding is not thread-safe (its *Async calls and worker threads crash
 * the process), so the whole client uses its synchronous calls on the main
 * thread only.
 */
import type openCv from '@u4/opencv4nodejs';
import type { Mat } from '@u4/opencv4nodejs';

export type OpenCV = typeof openCv;
export type { Mat };

let loaded: Promise<OpenCV> | undefined;

export function loadOpenCV(): Promise<OpenCV> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<OpenCV> {
  // The binding was built against the system OpenCV; without this it looks for
  // its own (absent) auto-build and throws.
  process.env.OPENCV4NODEJS_DISABLE_AUTOBUILD ??= '1';
  // We report unreadable sources ourselves; OpenCV's backend-by-backend chatter only confuses.
  process.env.OPENCV_LOG_LEVEL ??= 'OFF';
  // The binding's own Mat allocator tells V8 about every Mat's pixels through v8::Isolate::GetCurrent(),
  // from the Mat's destructor. A Mat that is garbage when Node exits is destroyed by the last GC, which
  // runs while Node tears the isolate down (no current isolate then): GetCurrent() is null and the
  // process dies of SIGSEGV after its work is done, silently (Node re-raises the signal). Seen as a
  // demo or client exiting by a signal now and then (docs/reliability.md). Plain OpenCV allocation
  // instead: nothing native calls into V8, and the Mats are still freed by their wrappers' finalizers.
  process.env.OPENCV4NODEJS_DISABLE_EXTERNAL_MEM_TRACKING ??= '1';
  try {
    try {
      const build = await import('@u4/opencv-build');
      build.Log.silence = true;
    } catch {
      // Only silences start-up logging; the binding itself may still load.
    }
    const mod = await import('@u4/opencv4nodejs');
    return mod.default;
  } catch (err) {
    throw new Error(
      `the camera client needs OpenCV (@u4/opencv4nodejs, an optional dependency) and it could not be loaded: ${errorText(err)}. ` +
        'Install the system OpenCV development package and run `npm install @u4/opencv4nodejs`.',
    );
  }
}

/** opencv4nodejs throws plain strings; normalise to a message. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * INTER_AREA looks best when shrinking a lot but is several times slower than
 * INTER_LINEAR at non-integer ratios (8 ms vs 3 ms for 768x576 -> 620x465 here).
 */
export function resizeInterpolation(cv: OpenCV, scale: number): number {
  return scale < 0.5 ? cv.INTER_AREA : cv.INTER_LINEAR;
}
