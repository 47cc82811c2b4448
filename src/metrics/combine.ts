/** Lets several observers (metrics, a demo UI, tests) watch one server. */
import type { FrameReport, ServerObserver } from '../accept/observer.js';
import type { BatcherObserver } from '../batcher/batcher.js';

export type Observer = ServerObserver & BatcherObserver;

export function combineObservers(...observers: Array<Observer | undefined>): Observer {
  const list = observers.filter((o): o is Observer => o !== undefined);
  if (list.length === 1) return list[0];
  return {
    connectionOpened: (protocol) => list.forEach((o) => o.connectionOpened?.(protocol)),
    connectionClosed: (protocol) => list.forEach((o) => o.connectionClosed?.(protocol)),
    connectionEnded: (reason) => list.forEach((o) => o.connectionEnded?.(reason)),
    frameReceived: (camera) => list.forEach((o) => o.frameReceived?.(camera)),
    frameAnswered: (report: FrameReport) => list.forEach((o) => o.frameAnswered?.(report)),
    protocolError: (rule) => list.forEach((o) => o.protocolError?.(rule)),
    rateCapWait: (cap) => list.forEach((o) => o.rateCapWait?.(cap)),
    batchDispatched: (size) => list.forEach((o) => o.batchDispatched?.(size)),
    workerTime: (label, us, sender) => list.forEach((o) => o.workerTime?.(label, us, sender)),
    longFrameStarted: (held) => list.forEach((o) => o.longFrameStarted?.(held)),
  };
}
