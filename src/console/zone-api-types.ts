/**
 * The zone editor's API answers (GET/PUT /api/admin/zones/:camera,
 * docs/console.md), types only: the server (zone-routes.ts) and the page
 * (web/console/zones-api.ts) both import them, so the two cannot drift. The
 * entry type is a parameter: the server sends the site file's zones, the page
 * also holds half-typed numbers for the server's parser to judge.
 */

/** GET's answer. */
export interface CameraZonesView<Entry> {
  camera: string;
  /** sha256 of the site file's text; also the ETag. */
  version: string;
  /** The site file's name (not its folder). */
  file: string;
  /** The camera has an entry in the site file. */
  inSiteFile: boolean;
  /** The image size the polygons refer to, if the file gives one. */
  width: number | null;
  height: number | null;
  zones: Entry[];
  limits: { zones: number; corners: number; rules: number };
}

/** A save's answer (200). */
export interface ZonesSaved {
  camera: string;
  version: string;
  added: string[];
  changed: string[];
  removed: string[];
  /** The reload's log line (what SIGHUP would have logged). */
  reload: string;
}
