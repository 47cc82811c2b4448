/**
 * Raw BGR frames in Matroska, written for ffmpeg's stdin: each frame carries
 * its own timestamp (a Cluster per frame, millisecond resolution), so the
 * encoder sees real capture times. Raw video on a pipe has no timestamps of
 * its own: ffmpeg would stamp frames when it reads them, on its input frame
 * rate's grid (1/25 s by default), and frames read together would share one.
 * Only what ffmpeg's Matroska demuxer needs is written (EBML header, an
 * unknown-size Segment, Info, one V_UNCOMPRESSED track with a `BGR\x18`
 * colour space); no Cues or SeekHead: it is a stream, never seeked.
 */

/** EBML variable-length size: the shortest form (1-8 bytes). */
function sizeField(n: number): Buffer {
  for (let len = 1; len <= 8; len++) {
    // All ones is reserved for "unknown size".
    if (n < 2 ** (7 * len) - 1) {
      const out = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        out[i] = v % 256;
        v = Math.floor(v / 256);
      }
      out[0] |= 0x80 >> (len - 1);
      return out;
    }
  }
  throw new RangeError(`EBML element of ${n} bytes is too large`);
}

function element(id: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from(id, 'hex'), sizeField(data.length), data]);
}

function unsigned(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not an unsigned integer: ${n}`);
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Matroska IDs used here (matroska.org element specification). */
const ID = {
  ebml: '1a45dfa3',
  ebmlVersion: '4286',
  ebmlReadVersion: '42f7',
  maxIdLength: '42f2',
  maxSizeLength: '42f3',
  docType: '4282',
  docTypeVersion: '4287',
  docTypeReadVersion: '4285',
  segment: '18538067',
  info: '1549a966',
  timestampScale: '2ad7b1',
  muxingApp: '4d80',
  writingApp: '5741',
  tracks: '1654ae6b',
  trackEntry: 'ae',
  trackNumber: 'd7',
  trackUid: '73c5',
  trackType: '83',
  codecId: '86',
  video: 'e0',
  pixelWidth: 'b0',
  pixelHeight: 'ba',
  colourSpace: '2eb524',
  cluster: '1f43b675',
  timestamp: 'e7',
  simpleBlock: 'a3',
} as const;

/** The stream header: EBML, an open-ended Segment, 1 ms timestamps, one raw BGR24 video track. */
export function rawBgrMatroskaHeader(width: number, height: number): Buffer {
  const ebml = element(
    ID.ebml,
    Buffer.concat([
      element(ID.ebmlVersion, unsigned(1)),
      element(ID.ebmlReadVersion, unsigned(1)),
      element(ID.maxIdLength, unsigned(4)),
      element(ID.maxSizeLength, unsigned(8)),
      element(ID.docType, text('matroska')),
      element(ID.docTypeVersion, unsigned(4)),
      element(ID.docTypeReadVersion, unsigned(2)),
    ]),
  );
  const info = element(
    ID.info,
    Buffer.concat([element(ID.timestampScale, unsigned(1_000_000)), element(ID.muxingApp, text('crowdline')), element(ID.writingApp, text('crowdline'))]),
  );
  const video = element(
    ID.video,
    Buffer.concat([
      element(ID.pixelWidth, unsigned(width)),
      element(ID.pixelHeight, unsigned(height)),
      element(ID.colourSpace, Buffer.from([0x42, 0x47, 0x52, 24])),
    ]),
  );
  const track = element(
    ID.trackEntry,
    Buffer.concat([
      element(ID.trackNumber, unsigned(1)),
      element(ID.trackUid, unsigned(1)),
      element(ID.trackType, unsigned(1)),
      element(ID.codecId, text('V_UNCOMPRESSED')),
      video,
    ]),
  );
  // Unknown size (all ones): the Segment runs to the end of the stream.
  const segmentStart = Buffer.concat([Buffer.from(ID.segment, 'hex'), Buffer.from('01ffffffffffffff', 'hex')]);
  return Buffer.concat([ebml, segmentStart, info, element(ID.tracks, track)]);
}

/**
 * One frame as a Cluster holding one key-frame SimpleBlock. Returns the bytes
 * before the pixels; write the pixels (width x height x 3, BGR) right after,
 * so the frame itself is never copied.
 */
export function rawFramePrefix(timeMs: number, pixelBytes: number): Buffer {
  // SimpleBlock: track 1 (as an EBML number), timestamp 0 relative to the Cluster, flags: key frame.
  const blockHead = Buffer.from([0x81, 0x00, 0x00, 0x80]);
  const blockSize = blockHead.length + pixelBytes;
  const timestamp = element(ID.timestamp, unsigned(timeMs));
  const blockHeader = Buffer.concat([Buffer.from(ID.simpleBlock, 'hex'), sizeField(blockSize)]);
  const clusterSize = timestamp.length + blockHeader.length + blockSize;
  return Buffer.concat([Buffer.from(ID.cluster, 'hex'), sizeField(clusterSize), timestamp, blockHeader, blockHead]);
}
