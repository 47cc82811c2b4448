/**
 * The zone editor's API without a browser (the browser test drives the page):
 * an admin's save keeps the file's comments, leaves the previous file as .bak
 * and reaches a connected camera's next RESULT; viewers, other sites, stale
 * versions, bodies over the limit and zones the site parser refuses change
 * nothing. Real servers on 127.0.0.1 with the known-answer model (cheap).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parse } from 'yaml';
import { addClient } from '../src/auth/edit-credentials.js';
import type { CameraZonesView, ZonesSaved } from '../src/console/zone-routes.js';
import { siteVersion } from '../src/zones/site-editor.js';
import { openApiChecker } from './helpers/openapi.js';
import { consoleSettings, eventually, FileCamera, sampleFrames, startConsoleServer } from './helpers/console.js';
import { knownAnswerModel, tempDir } from './helpers/server.js';

const model = knownAnswerModel();
const check = openApiChecker();
const API_PATH = '/api/admin/zones/{camera}';
const frames = sampleFrames(20);

const SITE = `# the walkway (kept by hand)
cameras:
  north:
    width: 768
    height: 576
    zones:
      # where people cross
      - name: crossing
        polygon: [[340, 150], [560, 120], [600, 330], [360, 340]] # measured on site
        capacity: 6
        alerts:
          - { level: alarm, metric: people, above: 3, for_s: 0 }
      - name: west-path
        polygon: [[0, 150], [340, 150], [360, 340], [0, 260]]
  south: # not edited here
    zones:
      - { name: gates, polygon: [[0, 0], [10, 0], [10, 10]] }
`;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function setUp(t: ExecutionContext, limits: { maxRequestBytes?: number } = {}) {
  const dir = tempDir('crowdline-console-zones-');
  const site = path.join(dir, 'site.yaml');
  fs.writeFileSync(site, SITE);
  const auth = path.join(dir, 'credentials.yaml');
  const viewerToken = await addClient(auth, 'control-room', undefined, 'viewer');
  const adminToken = await addClient(auth, 'site-admin', undefined, 'admin');
  const cameraToken = await addClient(auth, 'north');
  const lines: string[] = [];
  const running = await startConsoleServer(t, {
    modelPath: model.onnxPath,
    sitePath: site,
    security: { authFile: auth },
    console: consoleSettings({}, limits),
    log: (line) => lines.push(line),
  });
  const url = running.console.url;
  const origin = new URL(url).origin;
  const signIn = async (token: string): Promise<string> => {
    const r = await request(`${url}api/login`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    return String(r.headers['set-cookie']?.[0] ?? '').split(';')[0];
  };
  const admin = await signIn(adminToken);
  const viewer = await signIn(viewerToken);
  // Every answer is also checked against docs/openapi.yaml.
  const described = (reply: Reply, method: 'get' | 'put'): Reply => {
    check(t, API_PATH, { status: reply.status, contentType: String(reply.headers['content-type']), body: reply.body }, method);
    return reply;
  };
  const get = async (cookie: string, camera = 'north'): Promise<Reply> =>
    described(await request(`${url}api/admin/zones/${camera}`, { headers: { cookie } }), 'get');
  const put = async (cookie: string, body: unknown, headers: Record<string, string> = {}, camera = 'north'): Promise<Reply> =>
    described(
      await request(`${url}api/admin/zones/${camera}`, {
        method: 'PUT',
        headers: { origin, cookie, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
      'put',
    );
  return { site, running, url, origin, admin, viewer, get, put, lines, cameraToken };
}

const LIFT = {
  name: 'lift',
  polygon: [
    [600, 400],
    [700, 400],
    [700, 500],
    [600, 500],
  ],
  capacity: 4,
  alerts: [{ level: 'warning', metric: 'occupancy', above: 0.8, for_s: 5 }],
};

test('an admin saves: comments and the other camera survive, .bak holds the previous file, and the next RESULT has the new zone', async (t) => {
  const s = await setUp(t);
  const cam = new FileCamera('north', frames, { fps: 10, token: s.cameraToken });
  await cam.connect(s.running.address.port);
  cam.start();
  t.teardown(() => cam.close());
  await eventually('a RESULT with zones', async () => ([...cam.results.values()].some((r) => r.zones && r.zones.length === 2) ? true : undefined));

  const read = await s.get(s.admin);
  t.is(read.status, 200, read.body);
  const view = JSON.parse(read.body) as CameraZonesView;
  t.is(view.version, siteVersion(SITE));
  t.is(read.headers.etag, `"${siteVersion(SITE)}"`);
  t.deepEqual([view.width, view.height, view.inSiteFile, view.file], [768, 576, true, 'site.yaml']);
  t.deepEqual(view.zones[0], parse(SITE).cameras.north.zones[0], 'zones as the file spells them (alerts with every field)');

  // Move west-path's first corner, drop nothing, add lift.
  const moved = { ...view.zones[1], polygon: [[10, 150], ...view.zones[1].polygon.slice(1)] };
  const saved = await s.put(s.admin, { zones: [view.zones[0], moved, LIFT] }, { 'if-match': read.headers.etag! });
  t.is(saved.status, 200, saved.body);
  const answer = JSON.parse(saved.body) as ZonesSaved;
  t.deepEqual([answer.added, answer.changed, answer.removed], [['lift'], ['west-path'], []]);
  t.regex(answer.reload, /site file reloaded \(2 camera\(s\), 4 zone\(s\)/);
  const text = fs.readFileSync(s.site, 'utf8');
  t.is(answer.version, siteVersion(text));
  t.is(saved.headers.etag, `"${answer.version}"`);
  for (const comment of ['# the walkway (kept by hand)', '# where people cross', '# measured on site', '# not edited here'])
    t.true(text.includes(comment), comment);
  t.deepEqual(parse(text).cameras.south, parse(SITE).cameras.south);
  t.deepEqual(parse(text).cameras.north.zones[2], LIFT);
  t.is(fs.readFileSync(`${s.site}.bak`, 'utf8'), SITE, 'the previous file is kept as .bak');
  t.deepEqual(
    fs
      .readdirSync(path.dirname(s.site))
      .filter((f) => f.startsWith('site'))
      .sort(),
    ['site.yaml', 'site.yaml.bak'],
    'no temporary file left',
  );
  t.true(
    s.lines.some((l) =>
      /site-admin saved the zones of camera "north" in site\.yaml \(added: lift; changed: west-path; removed: none\); site file reloaded/.test(l),
    ),
  );

  // The camera got the new ZONES, and a RESULT after it carries the lift's reading.
  await eventually('ZONES with lift', async () => (cam.zones?.zones.map((z) => z.name).join() === 'crossing,west-path,lift' ? true : undefined));
  t.deepEqual(cam.zones?.zones[1].polygon[0], [10, 150]);
  const after = Math.max(...cam.results.keys());
  const next = await eventually(
    'a RESULT with three zone readings',
    async () => [...cam.results.entries()].find(([seq, r]) => seq > after && r.zones?.length === 3)?.[1],
  );
  t.deepEqual(
    next.zones!.map((z) => z.id),
    [0, 1, 2],
  );
});

test('a stale or missing version, a viewer, another site and a body over the limit change nothing', async (t) => {
  const s = await setUp(t, { maxRequestBytes: 4096 });
  const read = await s.get(s.admin);
  const view = JSON.parse(read.body) as CameraZonesView;
  const body = { zones: [...view.zones, LIFT] };
  // Viewers can neither read nor save.
  t.is((await s.get(s.viewer)).status, 403);
  t.is((await s.put(s.viewer, body, { 'if-match': read.headers.etag! })).status, 403);
  // A page on another site, even with the admin's cookie (were SameSite ignored).
  t.is((await s.put(s.admin, body, { 'if-match': read.headers.etag!, origin: 'http://evil.example' })).status, 403);
  // Not JSON, by content type: a plain form post cannot save.
  t.is((await s.put(s.admin, JSON.stringify(body), { 'if-match': read.headers.etag!, 'content-type': 'text/plain' })).status, 415);
  // No version: 428. A version from before a hand edit: 412 with the current one.
  t.is((await s.put(s.admin, body)).status, 428);
  t.is((await s.put(s.admin, body, { 'if-match': '"not-a-version"' })).status, 400);
  fs.appendFileSync(s.site, '# edited by hand\n');
  const stale = await s.put(s.admin, body, { 'if-match': read.headers.etag! });
  t.is(stale.status, 412, stale.body);
  t.regex(stale.body, /changed since these zones were loaded/);
  const current = fs.readFileSync(s.site, 'utf8');
  t.is(JSON.parse(stale.body).version, siteVersion(current));
  t.is(current, `${SITE}# edited by hand\n`);
  // Over --console-max-request-bytes: 413 before anything is read.
  const big = { zones: [{ ...LIFT, polygon: Array.from({ length: 250 }, (_, i) => [100_000 + i, 200_000 + i]) }] };
  t.true(JSON.stringify(big).length > 4096);
  t.is((await s.put(s.admin, big, { 'if-match': `"${siteVersion(current)}"` })).status, 413);
  t.is(fs.readFileSync(s.site, 'utf8'), current);
  t.false(fs.existsSync(`${s.site}.bak`), 'nothing was written');
});

test("zones the site file's parser refuses get 422 with its message and where, and nothing is written", async (t) => {
  const s = await setUp(t);
  const read = await s.get(s.admin);
  const etag = read.headers.etag!;
  const view = JSON.parse(read.body) as CameraZonesView;
  const cases: Array<[unknown, RegExp, { zone?: number; field?: string }]> = [
    [{ ...LIFT, capacity: -1 }, /site\.yaml: camera "north", zone "lift", field capacity: .*greater than 0/, { zone: 2, field: 'capacity' }],
    [{ ...LIFT, colour: 'red' }, /zone "lift".*[Uu]nrecognized key.*colour/, { zone: 2 }],
    [{ ...LIFT, name: 'crossing' }, /zone "crossing": a second zone with this name/, { zone: 2, field: 'name' }],
    [
      {
        ...LIFT,
        polygon: [
          [0, 0],
          [10, 10],
          [10, 0],
          [0, 10],
        ],
      },
      /zone "lift": polygon/,
      { zone: 2, field: 'polygon' },
    ],
    [{ ...LIFT, alerts: [{ level: 'alarm', above: 5, clear_below: 9 }] }, /clear_below must not exceed above/, { zone: 2, field: 'alerts.0.clear_below' }],
    [{ ...LIFT, capacity: undefined }, /alerts\[0\] uses occupancy but the zone has no capacity/, { zone: 2, field: 'alerts.0.metric' }],
    [{ ...LIFT, name: 'exit/north' }, /zone "exit\/north".*field name/, { zone: 2, field: 'name' }],
  ];
  for (const [zone, message, at] of cases) {
    const r = await s.put(s.admin, { zones: [...view.zones, zone] }, { 'if-match': etag });
    t.is(r.status, 422, r.body);
    const answer = JSON.parse(r.body) as { error: string; at: Record<string, unknown> };
    t.regex(answer.error, message);
    t.like(answer.at, { camera: 'north', ...at });
  }
  // The body's own shape.
  t.is((await s.put(s.admin, { zones: 'all of them' }, { 'if-match': etag })).status, 400);
  t.is((await s.put(s.admin, { zones: [], width: 640 }, { 'if-match': etag })).status, 400);
  t.is((await s.put(s.admin, { zones: [], owner: 'me' }, { 'if-match': etag })).status, 400);
  t.is((await s.put(s.admin, { zones: [] }, { 'if-match': etag }, '-north')).status, 400);
  // Nested thousands deep (within the byte limit): refused before anything recursive walks it.
  const deep = `{"zones":[{"name":"a","polygon":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`;
  const nested = await s.put(s.admin, deep, { 'if-match': etag });
  t.is(nested.status, 400, nested.body);
  t.regex(nested.body, /nests deeper than/);
  t.is(fs.readFileSync(s.site, 'utf8'), SITE);
  t.false(fs.existsSync(`${s.site}.bak`));
});

test('two admins save from the same version at once: one wins, the other is told to reload', async (t) => {
  const s = await setUp(t);
  const read = await s.get(s.admin);
  const view = JSON.parse(read.body) as CameraZonesView;
  const etag = read.headers.etag!;
  const [a, b] = await Promise.all([
    s.put(s.admin, { zones: [view.zones[0]] }, { 'if-match': etag }),
    s.put(s.admin, { zones: [...view.zones, LIFT] }, { 'if-match': etag }),
  ]);
  t.deepEqual([a.status, b.status].sort(), [200, 412]);
  const names = parse(fs.readFileSync(s.site, 'utf8')).cameras.north.zones.map((z: { name: string }) => z.name);
  t.deepEqual(names, a.status === 200 ? ['crossing'] : ['crossing', 'west-path', 'lift']);
  // A camera not yet in the file gets an entry of its own.
  const fresh = await s.get(s.admin, 'east');
  const eastView = JSON.parse(fresh.body) as CameraZonesView;
  t.deepEqual([eastView.inSiteFile, eastView.zones], [false, []]);
  const added = await s.put(s.admin, { zones: [LIFT], width: 1280, height: 720 }, { 'if-match': fresh.headers.etag! }, 'east');
  t.is(added.status, 200, added.body);
  t.like(parse(fs.readFileSync(s.site, 'utf8')).cameras.east, { width: 1280, height: 720, zones: [LIFT] });
});

test('without a site file the editor says so', async (t) => {
  const running = await startConsoleServer(t, { modelPath: model.onnxPath });
  const r = await request(`${running.console.url}api/admin/zones/north`);
  t.is(r.status, 404);
  t.regex(r.body, /without a site file/);
});
