/** A gauge whose value is read at scrape time (queue depths, disk bytes, a state flag) rather than set. */
import { Gauge, type Registry } from 'prom-client';

export function sampledGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    // prom-client calls collect() with the gauge as `this`.
    collect() {
      this.set(read());
    },
  });
}
