/**
 * Zones drawn by hand -> the server's site file (`crowdline serve --site`,
 * docs/zones.md): one camera with its reference size and zones, polygons on
 * one line each so the file stays readable.
 */
import { Document, isSeq, visit } from 'yaml';
import type { DraftZone } from './zone-drafting.js';

export interface SiteCamera {
  camera: string;
  /** The frame the corners were picked on: the server scales them to each frame it receives. */
  width: number;
  height: number;
  zones: readonly DraftZone[];
  /** Where the frame came from, for the header comment. */
  source?: string;
}

export function siteYaml(site: SiteCamera): string {
  const doc = new Document({
    cameras: {
      [site.camera]: {
        width: site.width,
        height: site.height,
        zones: site.zones.map((z) => ({ name: z.name, polygon: z.polygon.map(([x, y]) => [x, y]) })),
      },
    },
  });
  visit(doc, {
    Pair(_, pair) {
      if ((pair.key as { value?: unknown } | null)?.value === 'polygon' && isSeq(pair.value)) pair.value.flow = true;
    },
  });
  doc.commentBefore = [
    ` crowdline site file: ${site.zones.length} zone${site.zones.length === 1 ? '' : 's'} for camera "${site.camera}", drawn on a ${site.width}x${site.height} frame${site.source ? ` of ${site.source}` : ''}.`,
    ' Rename the zones, add capacity (people) and alert rules, then: crowdline serve --site FILE (docs/zones.md).',
  ].join('\n');
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
