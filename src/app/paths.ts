import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (works from src/ under ts and from dist/src/ once built). */
export const PACKAGE_ROOT = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..';
  return path.resolve(here, up);
})();

export const DEFAULT_MODEL_PATH = path.join(PACKAGE_ROOT, 'models', 'crowdline-v1.onnx');

/**
 * `--model` value -> ONNX path: a bare name without an extension (`crowdline-v2`)
 * names a model shipped in models/; anything else is a path, used as given.
 */
export function modelPath(nameOrPath: string): string {
  const shortName = /^[\w-]+$/.test(nameOrPath);
  return shortName ? path.join(PACKAGE_ROOT, 'models', `${nameOrPath}.onnx`) : nameOrPath;
}

export const MODEL_OPTION_HELP = 'ONNX model path (its .json manifest beside it), or the name of one in models/: crowdline-v1, crowdline-v2, crowdline-v2-int8';

/** Debian's opencv-doc ships this real pedestrian video (768x576, 795 frames). */
export const SAMPLE_VIDEO = '/usr/share/doc/opencv-doc/examples/data/vtest.avi';

/** Its frame rate: the demo plays it at this pace, so zone smoothing and alert hold times follow the video's clock. */
export const SAMPLE_VIDEO_FPS = 10;

/** Zones on the sample video's walkway (`crowdline demo` shows them). */
export const SAMPLE_SITE = path.join(PACKAGE_ROOT, 'deploy', 'sites', 'vtest.yaml');

/** The console's page: compiled frontend, its stylesheet and icon, and the npm packages it imports. */
export const CONSOLE_WEB_ROOTS = {
  build: path.join(PACKAGE_ROOT, 'dist', 'web', 'console'),
  shared: path.join(PACKAGE_ROOT, 'dist', 'src'),
  assets: path.join(PACKAGE_ROOT, 'web', 'console', 'assets'),
  nodeModules: path.join(PACKAGE_ROOT, 'node_modules'),
} as const;
