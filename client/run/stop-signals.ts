/**
 * SIGINT (Ctrl-C) and SIGTERM (systemd, Docker, Kubernetes) both stop the
 * client gracefully; a second signal of either kind means "now".
 */
import os from 'node:os';

export type StopSignal = 'SIGINT' | 'SIGTERM';
const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM'];

/** The conventional exit status of a process ended by a signal. */
export function signalExitCode(signal: StopSignal): number {
  return 128 + os.constants.signals[signal];
}

/** Installs the handlers; returns a function that removes them. */
export function onStopSignals(graceful: (signal: StopSignal) => void, immediate: (signal: StopSignal) => void): () => void {
  let received = false;
  const handler = (signal: StopSignal): void => {
    if (received) immediate(signal);
    else {
      received = true;
      graceful(signal);
    }
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}
