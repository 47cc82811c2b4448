/**
 * Exponential moving average in time, not frames: alpha = 1 - exp(-dt/tau),
 * so a step response reaches 63 % after tau seconds at 2 fps or at 25 fps
 * alike, and a dropped frame does not change the curve.
 */
export class TimeEma {
  private last: number | undefined;
  private value = Number.NaN;

  constructor(private readonly tauMs: number) {}

  /** Adds a sample at timeMs and returns the smoothed value. A sample at or before the last one moves nothing in time, so it is blended with weight 0. */
  update(sample: number, timeMs: number): number {
    if (this.last === undefined || !Number.isFinite(this.value)) {
      this.value = sample;
      this.last = timeMs;
      return this.value;
    }
    const dt = timeMs - this.last;
    if (dt > 0) {
      const alpha = 1 - Math.exp(-dt / this.tauMs);
      this.value += alpha * (sample - this.value);
      this.last = timeMs;
    }
    return this.value;
  }

  get current(): number {
    return this.value;
  }
}
