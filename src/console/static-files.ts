/**
 * The page's files, read once at start into memory and served by exact path
 * from an allow-list: the compiled frontend (every .js under its build
 * folder), the few pure server modules it shares, its stylesheet and icon,
 * and the few files of npm packages it imports (served from node_modules,
 * never a CDN: sites are often offline).
 * No request path ever reaches the file system, so there is nothing to
 * traverse.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface StaticFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

/** An npm package file the page may import: URL path -> file under node_modules. */
export interface VendorFile {
  url: string;
  file: string;
}

/**
 * What the page imports from npm. `specifier` entries go into the page's
 * import map, so the compiled frontend can `import { h } from 'preact'`.
 */
export const VENDOR_FILES: ReadonlyArray<VendorFile & { specifier?: string }> = [
  { specifier: 'preact', url: '/vendor/preact/preact.module.js', file: 'preact/dist/preact.module.js' },
  { specifier: 'preact/hooks', url: '/vendor/preact/hooks.module.js', file: 'preact/hooks/dist/hooks.module.js' },
  { specifier: 'preact/jsx-runtime', url: '/vendor/preact/jsxRuntime.module.js', file: 'preact/jsx-runtime/dist/jsxRuntime.module.js' },
  { specifier: 'uplot', url: '/vendor/uplot/uPlot.esm.js', file: 'uplot/dist/uPlot.esm.js' },
  { url: '/vendor/uplot/uPlot.min.css', file: 'uplot/dist/uPlot.min.css' },
];

function load(file: string): StaticFile {
  const body = readFileSync(file);
  return {
    body,
    contentType: TYPES[path.extname(file)] ?? 'application/octet-stream',
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
  };
}

/** Files under `dir` with these extensions, as URL paths under `prefix`. */
function listTree(dir: string, prefix: string, extensions: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const walk = (d: string, url: string): void => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full, `${url}/${name}`);
      else if (extensions.includes(path.extname(name))) out.push([`${url}/${name}`, full]);
    }
  };
  walk(dir, prefix);
  return out;
}

/**
 * The server's own modules the page runs as they are (pure, importing
 * nothing), served at /src/<path>, where the compiled page's relative
 * imports (../../src/...) point. Types-only imports need no entry.
 */
export const PAGE_SHARED_MODULES: readonly string[] = ['common/arrow-geometry.js', 'history/buckets.js'];

export interface StaticRoots {
  /** The compiled frontend (tsc output). */
  build: string;
  /** The compiled server library (dist/src), for PAGE_SHARED_MODULES. */
  shared: string;
  /** The frontend's own non-TypeScript files (stylesheet, icon). */
  assets: string;
  nodeModules: string;
}

export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();
  /** Why the frontend is missing (not built), shown on the page instead of it. */
  readonly missing: string | undefined;

  constructor(roots: StaticRoots) {
    const problems: string[] = [];
    const add = (url: string, file: string): void => {
      try {
        this.files.set(url, load(file));
      } catch (err) {
        problems.push(`${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    };
    try {
      for (const [url, file] of listTree(roots.build, '/app', ['.js'])) add(url, file);
    } catch {
      problems.push(`${roots.build} (the frontend is not built: npm run build)`);
    }
    for (const [url, file] of listTree(roots.assets, '/app', ['.css', '.svg', '.png'])) add(url, file);
    for (const m of PAGE_SHARED_MODULES) add(`/src/${m}`, path.join(roots.shared, m));
    for (const v of VENDOR_FILES) add(v.url, path.join(roots.nodeModules, v.file));
    this.missing = problems.length > 0 ? problems.join('; ') : undefined;
  }

  get(url: string): StaticFile | undefined {
    return this.files.get(url);
  }

  urls(): string[] {
    return [...this.files.keys()];
  }

  /** The import map the page carries (only packages that are there). */
  importMap(): { imports: Record<string, string> } {
    const imports: Record<string, string> = {};
    for (const v of VENDOR_FILES) if (v.specifier && this.files.has(v.url)) imports[v.specifier] = v.url;
    return { imports };
  }
}
