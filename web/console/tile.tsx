/** A camera on the wall: its picture, name, count, fps and latency, and a badge when it is stale or gone. */
import { useEffect, useState } from 'preact/hooks';
import { cameraHref, duration, people } from './format.js';
import type { Live } from './live.js';
import { CameraPicture, pictureSize } from './picture.js';
import type { CameraInfo, UpdateHeader } from './wire.js';

export function useLatestHeader(live: Live, camera: string): UpdateHeader | undefined {
  const [header, setHeader] = useState<UpdateHeader | undefined>(live.latestOf(camera)?.header);
  useEffect(() => live.onUpdate(camera, (u) => setHeader(u.header)), [live, camera]);
  return header;
}

export function StateBadge({ info }: { info: CameraInfo }) {
  if (info.state === 'live') return null;
  const since = info.lastFrameAt === null ? '' : ` · ${duration(Date.now() - info.lastFrameAt)}`;
  const text = info.state === 'stale' ? `stale${since}` : info.state === 'offline' ? `offline${since}` : 'waiting';
  return <span class={`badge ${info.state}`}>{text}</span>;
}

export function CameraFigures({ header }: { header: UpdateHeader | undefined }) {
  if (!header) return <span class="figures">–</span>;
  return (
    <span class="figures">
      <span class="fps" title="answered frames per second">
        {header.fps.toFixed(1)} fps
      </span>
      <span class="latency" title="server time per frame, receive to reply">
        {Math.round(header.latencyMs)} ms
      </span>
      <span class="seq" title="the camera's frame number">
        #{header.seq}
      </span>
    </span>
  );
}

export function Tile({ live, info }: { live: Live; info: CameraInfo }) {
  const header = useLatestHeader(live, info.name);
  const image = pictureSize(info, header);
  return (
    // No wider than its picture may be at the wall's picture height (--picture-max-h), so the whole tile fits the screen.
    <article
      class={`tile ${info.state}`}
      data-camera={info.name}
      style={{ maxWidth: `calc(var(--picture-max-h, 100vh) * ${(image.width / image.height).toFixed(4)} + 2px)` }}
    >
      <a class="tile-picture" href={cameraHref(info.name)} aria-label={`open ${info.name}`}>
        <CameraPicture live={live} info={info} />
        <StateBadge info={info} />
      </a>
      <footer>
        <span class="name" title={info.name}>
          {info.name}
        </span>
        <span class="count" title="people in the frame">
          {header ? people(header.count) : '–'}
        </span>
        <CameraFigures header={header} />
      </footer>
    </article>
  );
}
