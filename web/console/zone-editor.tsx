/**
 * The zone editor (admins): a camera's zones drawn over its latest frame,
 * with the selected zone's fields beside it. Nothing is sent until Save;
 * Save sends the whole list with the version it was loaded at, so a save
 * over someone else's is refused (and said so) instead of undoing theirs.
 * The server checks it with the site file's own parser; what it refuses is
 * shown beside the field it names.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Live } from './live.js';
import { CameraPicture } from './picture.js';
import { useLatestHeader } from './tile.js';
import { fromDraft, newZone, shortMessage, toDraft, type FieldError, type Point, type ZoneDraft } from './zone-editor-model.js';
import { ZoneForm } from './zone-editor-form.js';
import { ZoneStage, type Space } from './zone-editor-stage.js';
import { loadZones, saveZones, type CameraZones, type SaveBody } from './zones-api.js';
import { errorText } from './format.js';

export function zonesHref(camera: string): string {
  return `#/zones/${encodeURIComponent(camera)}`;
}

type Status = { kind: 'loading' | 'saving' | 'saved' | 'invalid' | 'stale' | 'failed'; text: string } | undefined;

export function ZoneEditor({ live, camera }: { live: Live; camera: string }) {
  const [loaded, setLoaded] = useState<CameraZones | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [zones, setZones] = useState<ZoneDraft[]>([]);
  const [selected, setSelected] = useState<number | undefined>();
  const [drawing, setDrawing] = useState<Point[] | undefined>();
  const [dirty, setDirty] = useState(false);
  const [status, setStatus] = useState<Status>();
  const [errors, setErrors] = useState<FieldError[]>([]);
  // A load in flight replaces everything on the page when it lands: nothing can be started meanwhile
  // (a drawing begun while Cancel's reload was on its way was wiped by it).
  const [loading, setLoading] = useState(true);
  const info = live.cameras.find((c) => c.site === camera) ?? live.cameras.find((c) => c.name === camera);
  const header = useLatestHeader(live, info?.name ?? camera);

  const load = (): void => {
    setLoadError(undefined);
    setLoading(true);
    setDrawing(undefined);
    setStatus({ kind: 'loading', text: 'Loading the zones from the file…' });
    loadZones(camera).then(
      (view) => {
        setLoading(false);
        setLoaded(view);
        setZones(view.zones.map(toDraft));
        setSelected(undefined);
        setDrawing(undefined);
        setDirty(false);
        setErrors([]);
        setStatus(undefined);
      },
      (err: unknown) => {
        setLoading(false);
        setLoadError(errorText(err));
      },
    );
  };
  useEffect(load, [camera]);
  // Closing the tab or reloading the page with unsaved zones asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent): void => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const change = (next: ZoneDraft[], touched?: { key: number; field: string }): void => {
    setZones(next);
    setDirty(true);
    if (touched) {
      const index = next.findIndex((z) => z.key === touched.key);
      setErrors(errors.filter((e) => !(e.zone === index && (e.field === touched.field || touched.field === 'polygon'))));
    }
    if (status?.kind === 'saved') setStatus(undefined);
  };
  const removeZone = (key: number): void => {
    change(zones.filter((z) => z.key !== key));
    setErrors([]);
    setSelected(undefined);
  };

  const finishDrawing = (): void => {
    if (!drawing || drawing.length < 3) return;
    const zone = newZone(zones, drawing);
    setZones([...zones, zone]);
    setSelected(zone.key);
    setDrawing(undefined);
    setDirty(true);
  };

  // The key handler of the latest render, read through a ref: an effect re-registered after each render runs
  // only after the next paint, so an Enter right after the last click would see the drawing without that corner.
  const keyHandler = useRef<(event: KeyboardEvent) => void>();
  keyHandler.current = (event: KeyboardEvent): void => {
    if (loading) return;
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (event.key === 'Escape' && drawing) setDrawing(undefined);
    else if (event.key === 'Enter' && drawing) finishDrawing();
    else if (event.key === 'Backspace' && drawing && !typing) setDrawing(drawing.slice(0, -1));
    else if ((event.key === 'Delete' || event.key === 'Backspace') && !typing && !drawing && selected !== undefined) removeZone(selected);
    else return;
    event.preventDefault();
  };
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => keyHandler.current?.(event);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (loadError) {
    return (
      <div class="zone-editor-page message">
        <p class="error">{loadError}</p>
        <p>
          <button onClick={load}>Try again</button> <a href="#/zones">All cameras</a>
        </p>
      </div>
    );
  }
  if (!loaded) return <div class="zone-editor-page message">Loading the zones of {camera}…</div>;

  // The polygons' coordinates: the file's image size, else the frame's own pixels.
  const space: Space | undefined =
    loaded.width !== null && loaded.height !== null ? { width: loaded.width, height: loaded.height } : (header?.image ?? undefined);

  const save = async (): Promise<void> => {
    setStatus({ kind: 'saving', text: 'Saving…' });
    const body: SaveBody = { zones: zones.map(fromDraft) };
    if (loaded.width === null && space) {
      // The file gives no image size: record the frame's, so the zones stay right if the camera's resolution changes.
      body.width = space.width;
      body.height = space.height;
    }
    const outcome = await saveZones(camera, loaded.version, body);
    if (outcome.kind === 'saved') {
      setLoaded({ ...loaded, version: outcome.version, width: body.width ?? loaded.width, height: body.height ?? loaded.height, inSiteFile: true });
      setDirty(false);
      setErrors([]);
      const parts = [
        ['added', outcome.added],
        ['changed', outcome.changed],
        ['removed', outcome.removed],
      ]
        .filter(([, names]) => names.length > 0)
        .map(([what, names]) => `${String(what)} ${(names as string[]).join(', ')}`);
      setStatus({ kind: 'saved', text: `Saved${parts.length > 0 ? `: ${parts.join('; ')}` : ''}. ${outcome.reload}` });
    } else if (outcome.kind === 'invalid') {
      const at = outcome.at;
      const zone = at?.zone;
      const field = at?.field ?? '';
      setErrors([{ zone, field, message: shortMessage(outcome.message) }]);
      if (zone !== undefined && zones[zone]) setSelected(zones[zone].key);
      setStatus({ kind: 'invalid', text: `Not saved: ${outcome.message}` });
    } else setStatus({ kind: outcome.kind, text: outcome.message });
  };

  const chosenIndex = zones.findIndex((z) => z.key === selected);
  const chosen = chosenIndex >= 0 ? zones[chosenIndex] : undefined;
  const stage = space ? (
    <ZoneStage
      zones={zones}
      selected={selected}
      drawing={drawing}
      space={space}
      onSelect={setSelected}
      onPolygon={(key, polygon) =>
        change(
          zones.map((z) => (z.key === key ? { ...z, polygon } : z)),
          { key, field: 'polygon' },
        )
      }
      onDrawPoint={(p) => setDrawing((now) => [...(now ?? []), p])}
      onDrawClose={finishDrawing}
    />
  ) : undefined;
  return (
    <div class="zone-editor-page" data-camera={camera}>
      <div class="zone-editor-main">
        <div class="camera-title">
          <a href="#/zones" class="back" aria-label="all cameras">
            ←
          </a>
          <h1>Zones of {camera}</h1>
          <span class="file" title="the site file these zones are saved in">
            {loaded.file}
          </span>
        </div>
        <div class={`picture-wrap zone-editor${drawing ? ' is-drawing' : ''}`} inert={loading}>
          {info ? (
            <CameraPicture live={live} info={{ ...info, zones: [] }} large>
              {stage}
            </CameraPicture>
          ) : (
            <div class="picture large" style={{ aspectRatio: space ? `${space.width} / ${space.height}` : '16 / 9' }}>
              {stage}
              <div class="picture-note">
                {space ? 'camera not connected: drawing on a blank ground' : 'connect the camera to draw its zones (the site file gives no image size)'}
              </div>
            </div>
          )}
        </div>
        <p class="hint draw-hint">
          {drawing
            ? `Click to add corners (${drawing.length} so far); click the first or last corner, or press Enter, to close; Esc cancels.`
            : 'Click a zone to select it; drag it to move it, drag its corners to reshape it, drag a midpoint to add a corner.'}
        </p>
      </div>
      <aside class="zone-editor-side" inert={loading} aria-busy={loading}>
        <div class="editor-actions">
          {drawing ? (
            <>
              <button class="finish-zone primary" disabled={drawing.length < 3} onClick={finishDrawing}>
                Close zone
              </button>
              <button class="cancel-drawing" onClick={() => setDrawing(undefined)}>
                Cancel drawing
              </button>
            </>
          ) : (
            <button
              class="new-zone"
              disabled={loading || !space || zones.length >= loaded.limits.zones}
              onClick={() => {
                setSelected(undefined);
                setDrawing([]);
              }}
            >
              + New zone
            </button>
          )}
          <span class="spacer" />
          <button
            class="cancel"
            disabled={loading || !dirty || status?.kind === 'saving'}
            onClick={load}
            title="discard the changes and load the zones from the file"
          >
            Cancel
          </button>
          <button class="save primary" disabled={loading || !dirty || status?.kind === 'saving' || drawing !== undefined} onClick={() => void save()}>
            Save
          </button>
        </div>
        {status && (
          <div class={`save-status ${status.kind}`} role="status">
            <p>{status.text}</p>
            {status.kind === 'stale' && <button onClick={load}>Load the current zones (drops these changes)</button>}
          </div>
        )}
        {dirty && !status && <p class="hint unsaved">Unsaved changes.</p>}
        <ul class="zone-list">
          {zones.length === 0 && <li class="hint">No zones yet: press “New zone” and click their corners on the picture.</li>}
          {zones.map((z, i) => (
            <li key={z.key}>
              <button
                class={`zone-item${z.key === selected ? ' selected' : ''}${errors.some((e) => e.zone === i) ? ' invalid' : ''}`}
                onClick={() => setSelected(z.key)}
              >
                <span class="zone-name">{z.name || '(no name)'}</span>
                <span class="zone-meta">
                  {z.capacity ? `cap ${z.capacity} · ` : ''}
                  {z.alerts.length} rule{z.alerts.length === 1 ? '' : 's'}
                </span>
              </button>
            </li>
          ))}
        </ul>
        {chosen && (
          <ZoneForm
            zone={chosen}
            errors={errors.filter((e) => e.zone === chosenIndex)}
            maxRules={loaded.limits.rules}
            onChange={(zone, field) =>
              change(
                zones.map((z) => (z.key === zone.key ? zone : z)),
                { key: zone.key, field },
              )
            }
            onDelete={() => removeZone(chosen.key)}
          />
        )}
        {errors.some((e) => e.zone === undefined) && <p class="field-error general">{errors.find((e) => e.zone === undefined)?.message}</p>}
      </aside>
    </div>
  );
}

/** #/zones: the cameras whose zones can be edited (connected ones, and those of the site file). */
export function ZonesIndex({ live }: { live: Live }) {
  const [siteCameras, setSiteCameras] = useState<string[]>([]);
  useEffect(() => {
    fetch('/api/v1/cameras', { credentials: 'same-origin' })
      .then((r) => (r.ok ? (r.json() as Promise<{ cameras?: Array<{ name?: unknown; in_site?: unknown }> }>) : { cameras: [] }))
      .then(
        (body) => setSiteCameras((body.cameras ?? []).filter((c) => c.in_site !== false && typeof c.name === 'string').map((c) => c.name as string)),
        () => setSiteCameras([]),
      );
  }, []);
  const names = new Map<string, { connected: boolean; zones: number | undefined }>();
  for (const c of live.cameras) if (c.site !== null) names.set(c.site, { connected: c.state !== 'offline', zones: c.zones.length });
  for (const name of siteCameras) if (!names.has(name)) names.set(name, { connected: false, zones: undefined });
  const list = [...names.entries()].sort(([a], [b]) => a.localeCompare(b));
  return (
    <div class="zones-index">
      <h1>Zones</h1>
      <p class="hint">Choose a camera to draw, move or delete its zones on its latest frame. Saving writes the site file and reloads it, as SIGHUP does.</p>
      {list.length === 0 ? (
        <p class="no-cameras">No camera is connected and the site file lists none.</p>
      ) : (
        <ul>
          {list.map(([name, c]) => (
            <li key={name}>
              <a href={zonesHref(name)} data-camera={name}>
                <span class="zone-name">{name}</span>
                <span class="zone-meta">
                  {c.connected ? 'connected' : 'not connected'}
                  {c.zones !== undefined ? ` · ${c.zones} zone${c.zones === 1 ? '' : 's'}` : ''}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
