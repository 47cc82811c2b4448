/** A folder of numbered JPEGs (block pattern, a different salt each) for `crowdline client --source FOLDER`. */
import fs from 'node:fs';
import path from 'node:path';
import { blockPatternJpeg } from './images.js';
import { tempDir } from './server.js';

export function writeJpegFolder(count: number, width = 160, height = 120): string {
  const dir = tempDir('crowdline-frames-');
  for (let i = 0; i < count; i++) {
    fs.writeFileSync(path.join(dir, `frame-${String(i).padStart(4, '0')}.jpg`), blockPatternJpeg(width, height, 16, { colour: true, salt: i }));
  }
  return dir;
}

/** A client CSV's frame numbers and statuses, after checking its header. */
export function readClientCsv(file: string, header: string): Array<{ frame: number; status: string }> {
  const [first, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  if (first !== header) throw new Error(`unexpected CSV header in ${file}: ${first}`);
  return lines.map((line) => {
    const cells = line.split(',');
    return { frame: Number(cells[1]), status: cells[6] };
  });
}
