/**
 * Main-thread time spent by the client per stage. Everything OpenCV does runs
 * synchronously on the main thread, so this is what limits how many cameras
 * one client can serve.
 */
export type CostStage = 'capture' | 'encode' | 'overlay' | 'record' | 'display';

const STAGES: CostStage[] = ['capture', 'encode', 'overlay', 'record', 'display'];

export class ClientCost {
  private readonly totals = new Map<CostStage, number>(STAGES.map((s) => [s, 0]));
  private readonly startedAt = performance.now();
  private readonly startCpu = process.cpuUsage();

  add(stage: CostStage, ms: number): void {
    this.totals.set(stage, (this.totals.get(stage) ?? 0) + ms);
  }

  /** Times a synchronous step. */
  time<T>(stage: CostStage, step: () => T): T {
    const t0 = performance.now();
    try {
      return step();
    } finally {
      this.add(stage, performance.now() - t0);
    }
  }

  total(stage: CostStage): number {
    return this.totals.get(stage) ?? 0;
  }

  /** One line: per-frame cost of each stage and the main-thread share it took. */
  describe(frames: number): string {
    const elapsed = performance.now() - this.startedAt;
    const sum = STAGES.reduce((acc, s) => acc + this.total(s), 0);
    const per = (ms: number): string => (frames > 0 ? (ms / frames).toFixed(2) : '-');
    const parts = STAGES.map((s) => `${s} ${per(this.total(s))}`);
    // Wall time above counts time the OS gave to other processes; CPU time does not.
    const cpu = process.cpuUsage(this.startCpu);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return (
      `client main-thread cost per frame (ms, ${frames} frames): ${parts.join(', ')}; total ${per(sum)} ` +
      `(${elapsed > 0 ? ((100 * sum) / elapsed).toFixed(0) : '-'}% of ${(elapsed / 1000).toFixed(1)} s wall); ` +
      `process CPU ${per(cpuMs)} ms per frame`
    );
  }
}
