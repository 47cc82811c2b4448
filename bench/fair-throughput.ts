/**
 * What fair queueing costs the whole server: 8 equal cameras (closed loop,
 * window 4, vtest.avi frames) against `crowdline serve` builds started side
 * by side (default model, CPU), one build loaded at a time, in alternating
 * rounds (the order rotates each round), so slow drifts of a shared machine
 * weigh on every build alike; or, with --together, all loaded at once, so
 * each gets its share of a busy machine alike and frames per second compare. Per run: frames answered ok per second, and
 * the server's CPU time per frame (process_cpu_seconds_total), which other
 * load on the machine moves less than wall-clock throughput.
 *
 *   node dist/bench/fair-throughput.js --build before=/path/to/old/dist/cli/main.js --build after=dist/cli/main.js [--rounds 5 --seconds 20]
 *   node dist/bench/fair-throughput.js --build 'nice0=dist/cli/main.js --worker-nice 0' --build 'nice10=dist/cli/main.js --worker-nice 10'
 *
 * A build is NAME=PATH, optionally followed by `crowdline serve` options for
 * it (space-separated), so one build with two settings compares too.
 */
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { loadFrames } from './frames.js';
import { runLoad } from './load.js';
import { scrape } from './scrape.js';
import { CPU_BENCH_SERVER, type ChildServer, startChildServer } from './server-process.js';

const argv = yargs(hideBin(process.argv))
  .option('build', {
    type: 'string',
    array: true,
    demandOption: true,
    describe: "NAME=path/to/dist/cli/main.js, two or more; serve options may follow the path ('nice0=dist/cli/main.js --worker-nice 0')",
  })
  .option('rounds', { type: 'number', default: 5 })
  .option('seconds', { type: 'number', default: 20, describe: 'measured seconds per run (after 3 s of warm-up)' })
  .option('cameras', { type: 'number', default: 8 })
  .option('together', {
    type: 'boolean',
    default: false,
    describe: 'load every build at the same time (each gets its share of the machine alike) instead of one after another',
  })
  .option('own-session', {
    type: 'boolean',
    default: false,
    describe: "start each server in a session of its own (a scheduling group, as a systemd service is), apart from this bench's cameras",
  })
  .option('video', { type: 'string', default: '/usr/share/doc/opencv-doc/examples/data/vtest.avi' })
  .strict()
  .parseSync();

const builds = argv.build.map((spec) => {
  const at = spec.indexOf('=');
  if (at < 1) throw new Error(`--build wants NAME=path, got ${spec}`);
  const [mainJs = '', ...serveArgs] = spec
    .slice(at + 1)
    .split(' ')
    .filter((w) => w !== '');
  return { name: spec.slice(0, at), mainJs: path.resolve(mainJs), serveArgs };
});
const frames = await loadFrames(argv.video, 20);

interface Run {
  fps: number;
  cpuMsPerFrame: number;
}

async function measure(server: ChildServer): Promise<Run> {
  const cpu0 = (await scrape(server.metricsUrl)).get('process_cpu_seconds_total') ?? 0;
  const r = await runLoad({
    host: server.host,
    port: server.port,
    mode: 'closed',
    cameras: argv.cameras,
    window: 4,
    jpegs: frames.jpegs,
    warmupS: 3,
    durationS: argv.seconds,
  });
  const cpu1 = (await scrape(server.metricsUrl)).get('process_cpu_seconds_total') ?? 0;
  return { fps: r.okInWindow / r.windowS, cpuMsPerFrame: ((cpu1 - cpu0) * 1000) / Math.max(1, r.ok) };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const loadStart = os
  .loadavg()
  .map((v) => v.toFixed(2))
  .join(' ');
const servers: ChildServer[] = [];
try {
  for (const b of builds)
    servers.push(
      await startChildServer({
        ...CPU_BENCH_SERVER,
        mainJs: b.mainJs,
        extraArgs: b.serveArgs,
        ownSession: argv['own-session'],
      }),
    );
  const runs: Run[][] = builds.map(() => []);
  for (let round = 0; round < argv.rounds; round++) {
    const report = (i: number, r: Run): void => {
      runs[i].push(r);
      process.stderr.write(
        `round ${round + 1} ${builds[i].name}: ${r.fps.toFixed(2)} fps, ${r.cpuMsPerFrame.toFixed(1)} CPU ms/frame (load ${os.loadavg()[0].toFixed(1)})\n`,
      );
    };
    if (argv.together) {
      (await Promise.all(servers.map((server) => measure(server)))).forEach((r, i) => report(i, r));
      continue;
    }
    for (let k = 0; k < builds.length; k++) {
      const i = (k + round) % builds.length;
      report(i, await measure(servers[i]));
    }
  }
  console.log(
    `${new Date().toISOString()}: ${argv.cameras} cameras, window 4, ${argv.rounds} rounds of ${argv.seconds} s per build, ${argv.together ? 'all builds loaded at once' : 'one build at a time'}${argv['own-session'] ? ', servers in sessions of their own' : ''}; ${os.cpus().length} cores; load average ${loadStart} at the start, ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')} at the end`,
  );
  console.log('');
  console.log(
    '| build | fps per run | median fps | server CPU ms per frame, per run | median | fps / first build (median of same-round ratios) | CPU per frame / first build (same) |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  const base = runs[0];
  builds.forEach((b, i) => {
    const fps = runs[i].map((r) => r.fps);
    const cpu = runs[i].map((r) => r.cpuMsPerFrame);
    // Ratios of runs in the same round (adjacent in time), then their median.
    const fpsRatio = median(runs[i].map((r, k) => r.fps / base[k].fps));
    const cpuRatio = median(runs[i].map((r, k) => r.cpuMsPerFrame / base[k].cpuMsPerFrame));
    console.log(
      `| ${b.name} | ${fps.map((v) => v.toFixed(2)).join(', ')} | ${median(fps).toFixed(2)} | ${cpu.map((v) => v.toFixed(1)).join(', ')} | ${median(cpu).toFixed(1)} | ${fpsRatio.toFixed(3)} | ${cpuRatio.toFixed(3)} |`,
    );
  });
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
