/**
 * deploy/: no cluster or Docker here, so every manifest is parsed (yaml) and
 * checked against the server's real defaults and the real `serve` command
 * (its yargs builder and checks, as `crowdline serve` runs them); the
 * HAProxy template is rendered and checked by `haproxy -c`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import yargs from 'yargs';
import { HAPROXY_TEMPLATE, renderHaproxyConfig } from '../bench/haproxy.js';
import { DEFAULT_SERVER_OPTIONS } from '../src/accept/options.js';
import { PACKAGE_ROOT } from '../src/app/paths.js';
import { DEFAULT_DRAIN_DELAY_MS, serveCommand } from '../cli/serve-command.js';
import { defaultHistoryDir } from '../src/app/history-setup.js';
import { tempDir } from './helpers/server.js';

const KUBE_DIR = path.join(PACKAGE_ROOT, 'deploy', 'kubernetes');
const DOCKER_DIR = path.join(PACKAGE_ROOT, 'deploy', 'docker');

type Yaml = Record<string, unknown>;

/** Arguments as `crowdline serve` would parse them (strict, with its checks), or the error it would print. */
async function parseServe(args: string[]): Promise<Record<string, unknown>> {
  const [command, ...rest] = args;
  if (command !== 'serve') throw new Error(`expected the serve command, got ${command}`);
  return yargs()
    .command({ ...serveCommand, handler: () => undefined })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync(['serve', ...rest]);
}

function manifests(): Yaml[] {
  return fs
    .readdirSync(KUBE_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) =>
      parseAllDocuments(fs.readFileSync(path.join(KUBE_DIR, f), 'utf8')).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors[0].message}`);
        return doc.toJS() as Yaml;
      }),
    );
}

function only(kind: string): Yaml {
  const found = manifests().filter((m) => m.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

/** A path into parsed YAML (a dotted string, or keys when one holds a dot); throws naming the path when it is missing. */
function at<T>(value: unknown, keys: string | string[]): T {
  let v = value;
  for (const key of typeof keys === 'string' ? keys.split('.') : keys) {
    if (v === null || typeof v !== 'object' || !(key in v)) throw new Error(`missing ${String(keys)} (at ${key})`);
    v = (v as Record<string, unknown>)[key];
  }
  return v as T;
}

interface ContainerPort {
  name: string;
  containerPort: number;
  protocol: string;
}
interface Probe {
  httpGet: { path: string; port: string | number };
}

function podSpec(): Yaml {
  return at<Yaml>(only('Deployment'), 'spec.template.spec');
}

function container(): Yaml {
  const containers = at<Yaml[]>(podSpec(), 'containers');
  return containers[0];
}

function portNumber(ref: string | number): number {
  if (typeof ref === 'number') return ref;
  const port = at<ContainerPort[]>(container(), 'ports').find((p) => p.name === ref);
  if (!port) throw new Error(`no container port named ${ref}`);
  return port.containerPort;
}

test('kustomization lists every manifest but the optional ServiceMonitor', (t) => {
  const kustomization = parseAllDocuments(fs.readFileSync(path.join(KUBE_DIR, 'kustomization.yaml'), 'utf8'))[0].toJS() as { resources: string[] };
  const files = fs.readdirSync(KUBE_DIR).filter((f) => f.endsWith('.yaml') && !['kustomization.yaml', 'servicemonitor.yaml'].includes(f));
  t.deepEqual([...kustomization.resources].sort(), files.sort());
});

test('Deployment: its args are accepted by `crowdline serve`; probes and ports are the ones those args open', async (t) => {
  const argv = await parseServe(at<string[]>(container(), 'args'));
  t.is(argv['metrics-host'], '0.0.0.0', 'probes come from outside the pod: the 127.0.0.1 default would fail them');
  const metricsPort = argv['metrics-port'] as number;
  t.is(at<Probe>(container(), 'readinessProbe').httpGet.path, '/readyz');
  t.is(portNumber(at<Probe>(container(), 'readinessProbe').httpGet.port), metricsPort);
  t.is(at<Probe>(container(), 'livenessProbe').httpGet.path, '/healthz');
  t.is(portNumber(at<Probe>(container(), 'livenessProbe').httpGet.port), metricsPort);
  t.is(portNumber('crowdline'), argv.port as number);
  t.true(at<ContainerPort[]>(container(), 'ports').every((p) => p.protocol === 'TCP'));
  t.not(argv.device, 'cpu', 'a GPU pod');
  for (const side of ['requests', 'limits']) t.true(Number(at(container(), ['resources', side, 'nvidia.com/gpu'])) >= 1, `GPU ${side}`);
});

test('Deployment: the grace period covers preStop + drain delay + shutdown grace', async (t) => {
  const argv = await parseServe(at<string[]>(container(), 'args'));
  const preStop = at<string[]>(container(), 'lifecycle.preStop.exec.command');
  t.is(preStop[0], '/bin/sleep');
  const needS = Number(preStop[1]) + (argv['drain-delay-ms'] as number) / 1000 + (argv['shutdown-grace-ms'] as number) / 1000;
  t.true(at<number>(podSpec(), 'terminationGracePeriodSeconds') >= needS, `grace period must be >= ${needS} s`);
  // The same figures as the server's own defaults (not copied into the manifest blindly).
  t.is(argv['drain-delay-ms'], DEFAULT_DRAIN_DELAY_MS);
  t.is(argv['shutdown-grace-ms'], DEFAULT_SERVER_OPTIONS.shutdownGraceMs);
  // Readiness notices the drain well inside the delay.
  const readiness = at<{ periodSeconds: number; failureThreshold: number }>(container(), 'readinessProbe');
  t.true(readiness.periodSeconds * readiness.failureThreshold * 1000 < (argv['drain-delay-ms'] as number));
});

test('Deployment: locked-down security context', (t) => {
  t.true(at<boolean>(podSpec(), 'securityContext.runAsNonRoot'));
  t.true(at<number>(podSpec(), 'securityContext.runAsUser') > 0);
  t.true(at<boolean>(container(), 'securityContext.readOnlyRootFilesystem'));
  t.false(at<boolean>(container(), 'securityContext.allowPrivilegeEscalation'));
  t.deepEqual(at<string[]>(container(), 'securityContext.capabilities.drop'), ['ALL']);
});

/** Kubernetes quantities as bytes: 3Gi, 500Mi, 64M. */
function quantityBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) throw new Error(`not a quantity: ${text}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as 'Ki'] ?? 1;
  return Number(m[1]) * unit;
}

test('Deployment: the history has a writable state volume at the default --history-dir, larger than --history-max-mb', async (t) => {
  const argv = await parseServe(at<string[]>(container(), 'args'));
  const env = at<Array<{ name: string; value: string }>>(container(), 'env');
  const stateDir = env.find((e) => e.name === 'STATE_DIRECTORY')?.value;
  t.is(stateDir, '/var/lib/crowdline');
  t.is(defaultHistoryDir({ STATE_DIRECTORY: stateDir }), '/var/lib/crowdline/history');
  // The root filesystem is read-only: the state directory must be a mounted volume.
  const mount = at<Array<{ name: string; mountPath: string; readOnly?: boolean }>>(container(), 'volumeMounts').find((m) => m.mountPath === stateDir);
  t.truthy(mount, 'a volume is mounted at the state directory');
  t.not(mount?.readOnly, true);
  const volume = at<Array<{ name: string; emptyDir?: { sizeLimit: string } }>>(podSpec(), 'volumes').find((v) => v.name === mount?.name);
  t.truthy(volume);
  // Past an emptyDir's sizeLimit the kubelet evicts the pod: the history's cap (database + WAL) must stay under it.
  if (volume?.emptyDir) t.true((argv['history-max-mb'] as number) * 2 ** 20 < 0.8 * quantityBytes(volume.emptyDir.sizeLimit), 'cap under 80 % of the volume');
});

for (const file of ['Dockerfile', 'Dockerfile.cuda']) {
  test(`${file}: the state directory (the default history) is a volume owned by the image's user`, (t) => {
    const text = fs.readFileSync(path.join(DOCKER_DIR, file), 'utf8');
    t.regex(text, /^ENV STATE_DIRECTORY=\/var\/lib\/crowdline$/m);
    t.regex(text, /^VOLUME \/var\/lib\/crowdline$/m);
    const user = /^USER (\d+:\d+)$/m.exec(text)?.[1];
    t.regex(text, new RegExp(`chown ${user} /var/lib/crowdline`));
  });
}

test("Service, PodDisruptionBudget and ServiceMonitor select the Deployment's pods and ports", async (t) => {
  const labels = at<Record<string, string>>(only('Deployment'), 'spec.template.metadata.labels');
  const matches = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
  const argv = await parseServe(at<string[]>(container(), 'args'));

  const service = only('Service');
  t.true(matches(at(service, 'spec.selector')));
  const ports = at<Array<{ name: string; targetPort: string | number; protocol: string }>>(service, 'spec.ports');
  t.true(ports.every((p) => p.protocol === 'TCP'));
  t.deepEqual(ports.map((p) => portNumber(p.targetPort)).sort(), [argv.port as number, argv['metrics-port'] as number].sort());

  const pdb = only('PodDisruptionBudget');
  t.true(matches(at(pdb, 'spec.selector.matchLabels')));
  t.is(at<number>(pdb, 'spec.maxUnavailable'), 1);

  const monitor = only('ServiceMonitor');
  t.true(matches(at(monitor, 'spec.selector.matchLabels')));
  const endpoint = at<Array<{ port: string; path: string }>>(monitor, 'spec.endpoints')[0];
  t.is(endpoint.path, '/metrics');
  t.is(portNumber(ports.find((p) => p.name === endpoint.port)!.targetPort), argv['metrics-port'] as number);

  const annotations = at<Record<string, string>>(only('Deployment'), 'spec.template.metadata.annotations');
  t.is(annotations['prometheus.io/scrape'], 'true');
  t.is(Number(annotations['prometheus.io/port']), argv['metrics-port'] as number);
  t.is(annotations['prometheus.io/path'], '/metrics');
});

for (const file of ['Dockerfile', 'Dockerfile.cuda']) {
  test(`${file}: its CMD is accepted by \`crowdline serve\`, exposes its ports, runs as the manifest's user`, async (t) => {
    const text = fs.readFileSync(path.join(DOCKER_DIR, file), 'utf8');
    const json = (instruction: string): string[] => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(text)![1]) as string[];
    t.deepEqual(json('ENTRYPOINT'), ['node', 'dist/cli/main.js']);
    const argv = await parseServe(json('CMD'));
    t.is(argv['metrics-host'], '0.0.0.0');
    const exposed = /^EXPOSE (.+)$/m.exec(text)![1].split(/\s+/).map(Number).sort();
    t.deepEqual(exposed, [argv.port as number, argv['metrics-port'] as number].sort());
    t.is(/^USER (\d+):\d+$/m.exec(text)?.[1], String(at<number>(podSpec(), 'securityContext.runAsUser')));
    // Everything the CLI imports at start-up is copied into the image.
    for (const dir of ['src', 'cli', 'client', 'bench', 'models']) t.regex(text, new RegExp(`COPY --from=build /app/dist/${dir} `));
  });
}

test('`crowdline serve` rejects what a manifest must not say', async (t) => {
  await t.throwsAsync(parseServe(['serve', '--metrics-prot=9464']), { message: /Unknown argument/ });
  await t.throwsAsync(parseServe(['serve', '--drain-delay-ms=-5']), { message: /--drain-delay-ms/ });
});

/** HAProxy durations: 130s, 3s, 500ms... in ms. */
function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`not an HAProxy duration: ${text}`);
  return Number(m[1]) * ({ ms: 1, s: 1_000, m: 60_000 } as const)[(m[2] ?? 'ms') as 'ms' | 's' | 'm'];
}

test("HAProxy template: tcp, leastconn, /readyz on the metrics port, timeouts above crowdline's, checks faster than the drain; haproxy -c accepts it", (t) => {
  const config = renderHaproxyConfig({
    bind: '127.0.0.1:17878',
    statsBind: '127.0.0.1:18404',
    backends: [
      { name: 'gpu1', host: '10.0.0.11', port: 7878, metricsPort: 9464 },
      { name: 'gpu2', host: '10.0.0.12', port: 7878, metricsPort: 9464 },
    ],
  });
  const lines = config
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const value = (prefix: string): string => {
    const line = lines.find((l) => l.startsWith(prefix + ' '));
    if (!line) throw new Error(`no "${prefix}" in the config`);
    return line.slice(prefix.length + 1);
  };
  t.is(value('mode'), 'tcp');
  t.is(value('balance'), 'leastconn');
  t.is(value('option httpchk'), 'GET /readyz');
  for (const side of ['client', 'server']) t.true(durationMs(value(`timeout ${side}`)) > DEFAULT_SERVER_OPTIONS.idleTimeoutMs, `timeout ${side}`);
  t.true(durationMs(value('timeout connect')) <= 5_000);
  const defaults = value('default-server').split(/\s+/);
  const option = (name: string): string => defaults[defaults.indexOf(name) + 1];
  t.true(durationMs(option('inter')) * Number(option('fall')) < DEFAULT_DRAIN_DELAY_MS, 'HAProxy notices a drain before the server stops accepting');
  t.is(Number(option('maxconn')), DEFAULT_SERVER_OPTIONS.maxConnections);
  t.regex(
    config,
    new RegExp(`reject if \\{ sc0_conn_cur gt ${DEFAULT_SERVER_OPTIONS.maxConnectionsPerIp} \\}`),
    "crowdline's per-address limit, on the cameras' real addresses",
  );
  t.deepEqual(
    lines.filter((l) => l.startsWith('server ')),
    ['server gpu1 10.0.0.11:7878 check port 9464', 'server gpu2 10.0.0.12:7878 check port 9464'],
  );
  t.false(config.includes('{{'), 'every placeholder filled');
  t.true(fs.readFileSync(HAPROXY_TEMPLATE, 'utf8').includes('{{servers}}'));

  const file = path.join(tempDir('crowdline-haproxy-check-'), 'haproxy.cfg');
  fs.writeFileSync(file, config);
  const check = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
  t.is(check.status, 0, `${check.stdout}${check.stderr}`);
});
