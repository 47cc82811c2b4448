/**
 * The console's pages, by hash path (#/, #/camera/NAME, #/alerts). A page
 * names its path pattern, whether it is in the top navigation, the role it
 * needs, which cameras it wants live updates for, and how it renders.
 * Issue 29's history and zone editor add entries here (/work/CONSOLE.md).
 */
import type { ComponentChild } from 'preact';
import { AlertsPanel } from './alerts.js';
import { CameraView } from './camera-view.js';
import { AlertHistory } from './history-alerts.js';
import { ChartPage } from './history-chart-page.js';
import { LineChartPage } from './line-chart-page.js';
import type { Live } from './live.js';
import { SiteView } from './site-view.js';
import { Wall } from './wall.js';
import { ZoneEditor, ZonesIndex } from './zone-editor.js';

export interface PageProps {
  live: Live;
  params: Readonly<Record<string, string>>;
}

export interface Page {
  /** `/`, `/camera/:name`. */
  path: string;
  /** In the top navigation under this label (undefined: reached by links). */
  nav?: string;
  /** Admin-only pages are hidden from viewers (the server refuses their API calls anyway). */
  role?: 'viewer' | 'admin';
  /** Cameras whose live updates the page needs: all, some, or none. */
  watch(params: Readonly<Record<string, string>>): '*' | string[];
  render(props: PageProps): ComponentChild;
}

export const PAGES: Page[] = [
  { path: '/', nav: 'Live', watch: () => '*', render: ({ live }) => <Wall live={live} /> },
  { path: '/camera/:name', watch: (p) => [p.name], render: ({ live, params }) => <CameraView live={live} name={params.name} /> },
  { path: '/alerts', nav: 'Alerts', watch: () => [], render: ({ live }) => <AlertsPanel active={live.active} recent={live.recent} full /> },
  // Issue 29's history pages (history-*.tsx, site-view.tsx): read /api/v1/*, no live updates.
  { path: '/site', nav: 'Site', watch: () => [], render: () => <SiteView /> },
  { path: '/history', nav: 'History', watch: () => [], render: () => <AlertHistory /> },
  { path: '/chart/:camera/:zone', watch: () => [], render: ({ params }) => <ChartPage camera={params.camera} zone={params.zone} /> },
  {
    path: '/chart/:camera/:zone/:range',
    watch: () => [],
    render: ({ params }) => <ChartPage camera={params.camera} zone={params.zone} range={params.range} />,
  },
  // Issue 32's counting lines over time (line-chart*.tsx), linked from the camera page's lines table.
  { path: '/line/:camera/:line', watch: () => [], render: ({ params }) => <LineChartPage camera={params.camera} line={params.line} /> },
  {
    path: '/line/:camera/:line/:range',
    watch: () => [],
    render: ({ params }) => <LineChartPage camera={params.camera} line={params.line} range={params.range} />,
  },
  // Issue 29's zone editor (zone-editor*.tsx): admins only; the editor watches its camera for the background frame.
  { path: '/zones', nav: 'Zones', role: 'admin', watch: () => [], render: ({ live }) => <ZonesIndex live={live} /> },
  { path: '/zones/:camera', role: 'admin', watch: (p) => [p.camera], render: ({ live, params }) => <ZoneEditor live={live} camera={params.camera} /> },
];

/** The page for a hash path and its params (unknown paths show the wall). */
export function pageFor(path: string): { page: Page; params: Record<string, string> } {
  const parts = path.split('/');
  for (const page of PAGES) {
    const pattern = page.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < pattern.length && ok; i++) {
      if (pattern[i].startsWith(':')) {
        try {
          params[pattern[i].slice(1)] = decodeURIComponent(parts[i]);
        } catch {
          ok = false;
        }
      } else ok = pattern[i] === parts[i];
    }
    if (ok) return { page, params };
  }
  return { page: PAGES[0], params: {} };
}
