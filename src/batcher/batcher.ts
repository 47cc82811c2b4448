/**
 * Dynamic batcher between sessions and the worker pool (like Triton's), fair
 * by worker time: each connection is a flow with its own queue, flows of one
 * sender (an identity, or an address) form a group that shares one
 * share, and when a worker is free the fair queue (fair-queue.ts) picks up
 * to maxBatch frames across groups, the group furthest behind its share
 * first. A partial batch
 * waits at most maxDelayMs for company. What a frame really cost (decode +
 * its share of the batch's inference) is charged to its flow and teaches
 * the cost model (cost-model.ts). Keeping the queue here (not inside
 * Piscina) is what lets a session withdraw a waiting frame under the
 * drop-oldest policy, and a closed connection drop all of its frames before
 * any reaches a worker.
 */
import { performance } from 'node:perf_hooks';
import { CostModel, FlowCost } from './cost-model.js';
import { FairQueue, type FlowGroup, type FlowPlace, type FlowQueue, type QueuedItem } from './fair-queue.js';
import { DEFAULT_LONG_FRAME_MS, HoldLimit, type HoldView } from './hold-limit.js';
import type { BatchRunner, FrameJob, JobOutcome, JobTicket, JobTimings } from './types.js';

export interface BatcherOptions {
  maxBatch: number;
  maxDelayMs: number;
  /** Frames that may wait for a worker, across all connections (default: no limit). */
  maxQueue?: number;
  /** JPEG bytes that may wait for a worker, across all connections (default: no limit). */
  maxQueueBytes?: number;
  /** JPEG bytes one connection may have waiting (default: no limit). */
  maxFlowQueueBytes?: number;
  /** Least share of worker time a waiting lower priority class gets against the classes above it (fair-queue.ts; default 0.1, 0: strict). */
  lowerClassShare?: number;
  /**
   * A frame estimated to cost a worker more than this (ms) is long: a
   * sender's long frames hold at most its share of the workers while another
   * sender is active (hold-limit.ts; default 250, 0: every frame).
   */
  longFrameMs?: number;
  /** The clock (epoch ms; tests pass their own). */
  now?: () => number;
}

export interface BatcherObserver {
  batchDispatched?(size: number): void;
  /** Worker time (us) a frame of the flow labelled `label`, of the sender (fair-queue group) `sender`, really cost. */
  workerTime?(label: string, us: number, sender: string): void;
  /** A long frame (hold-limit.ts) started; `held`: the hold limit had made it wait for its sender's (or connection's) share. */
  longFrameStarted?(held: boolean): void;
}

/** Who a flow is, whose group it is in, and what share it gets. */
export interface FlowOptions extends FlowPlace {
  /** Names the flow in metrics (its identity, or camera). */
  label: string;
}

/** What a sender's connections have waiting, together (queue limits' fair parts are per sender first). */
interface GroupUse {
  flows: number;
  frames: number;
  bytes: number;
}

interface Waiting {
  /** Released (undefined) once the job is cancelled, so its JPEG can be collected at once. */
  job: FrameJob | undefined;
  flow: BatchFlow;
  receivedAtMs: number;
  bytes: number;
  work: number;
  /** Worker time (us) charged when taken. */
  estimateUs: number;
  item: QueuedItem<Waiting> | undefined;
  /** While it runs: the sender and connection it is counted to in the hold limits, and whether it counts as long there. */
  holder: { group: FlowGroup<Waiting>; flow: FlowQueue<Waiting> } | undefined;
  long: boolean;
  /** The hold limit passed it over at least once (its sender, or its connection, held its share of the workers). */
  held: boolean;
  resolve(outcome: JobOutcome): void;
  state: 'queued' | 'running' | 'done';
}

/** One connection's place in the batcher. */
export class BatchFlow {
  queuedFrames = 0;
  queuedBytes = 0;
  readonly cost = new FlowCost();

  constructor(
    readonly queue: FlowQueue<Waiting>,
    public label: string,
    /** Its sender's use of the queue (shared with the sender's other connections). */
    public use: GroupUse,
    private readonly owner: Batcher,
  ) {}

  /** The sender's group key (fair-queue.ts). */
  get group(): string {
    return this.queue.group.key;
  }

  get closed(): boolean {
    return this.queue.closed;
  }

  /** New share (after authentication); applies from its next frame. */
  update(options: FlowOptions): void {
    this.label = options.label;
    this.owner.updateFlow(this, options);
  }

  /** The connection is gone: every frame still waiting is answered dropped and released now. */
  close(reason = 'connection closed'): void {
    this.owner.closeFlow(this, reason);
  }
}

/** Senders share the workers by weight; a sender of a lower class is not reserved for. */
const SENDERS: HoldView<FlowGroup<Waiting>> = {
  weight: (g) => g.weight,
  waiting: (g) => g.backlogged.length > 0,
  competes: (other, g) => other.priority >= g.priority,
};
/** One tier down, a sender's connections among themselves. */
const CONNECTIONS: HoldView<FlowQueue<Waiting>> = {
  weight: (f) => f.share.weight,
  waiting: (f) => f.length > 0,
  competes: (other, f) => other.group === f.group,
};

const nowMs = (): number => performance.timeOrigin + performance.now();
const zeroTimings = (): JobTimings => ({ queueUs: 0, decodeUs: 0, inferUs: 0 });

export class Batcher {
  private readonly queue: FairQueue<Waiting>;
  private readonly costs = new CostModel();
  /** How many workers a sender's long frames may hold; and, among one sender's connections, each connection's. */
  private readonly hold: HoldLimit<FlowGroup<Waiting>>;
  private readonly flowHold: HoldLimit<FlowQueue<Waiting>>;
  private readonly now: () => number;
  private running = 0;
  private bytes = 0;
  /** Queue use per sender (group key, whatever its class), while it has a connection open. */
  private readonly uses = new Map<string, GroupUse>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (epoch ms). */
  private timerAtMs = Number.POSITIVE_INFINITY;
  private idleWaiters: Array<() => void> = [];
  private readonly roomListeners: Array<() => void> = [];

  constructor(
    private readonly runner: BatchRunner,
    private readonly options: BatcherOptions,
    private readonly observer: BatcherObserver = {},
  ) {
    if (options.maxBatch < 1) throw new RangeError('maxBatch must be at least 1');
    this.queue = new FairQueue<Waiting>({ lowerClassShare: options.lowerClassShare });
    const longFrameMs = options.longFrameMs ?? DEFAULT_LONG_FRAME_MS;
    if (!(longFrameMs >= 0)) throw new RangeError(`longFrameMs must be >= 0, got ${longFrameMs}`);
    this.hold = new HoldLimit(this.slots, longFrameMs * 1000, SENDERS);
    this.flowHold = new HoldLimit(this.slots, longFrameMs * 1000, CONNECTIONS);
    this.now = options.now ?? nowMs;
  }

  /** Batches that may be in flight at once. */
  private get slots(): number {
    return this.runner.concurrency ?? this.runner.size;
  }

  /** Frames waiting for a worker. */
  get queueDepth(): number {
    return this.queue.size;
  }

  /** JPEG bytes waiting for a worker. */
  get queueBytes(): number {
    return this.bytes;
  }

  /** Batches inside workers now. */
  get runningBatches(): number {
    return this.running;
  }

  openFlow(options: FlowOptions): BatchFlow {
    const queue = this.queue.openFlow(options);
    return new BatchFlow(queue, options.label, this.useOf(queue.group.key), this);
  }

  /** @internal BatchFlow.update */
  updateFlow(flow: BatchFlow, place: FlowPlace): void {
    if (flow.closed) return;
    const before = flow.group;
    const group = flow.queue.group;
    this.queue.updateFlow(flow.queue, place);
    if (flow.queue.group !== group) {
      if (group.members.size === 0) this.hold.forget(group);
      // Its rate was its old sender's business; it is reserved for among its new sender's connections from its next frames.
      this.flowHold.forget(flow.queue);
    }
    if (flow.group === before) return;
    // Its waiting frames move with it to the new sender's account.
    this.release(before, flow);
    flow.use = this.useOf(flow.group);
    flow.use.frames += flow.queuedFrames;
    flow.use.bytes += flow.queuedBytes;
  }

  /** @internal BatchFlow.close */
  closeFlow(flow: BatchFlow, reason: string): void {
    if (flow.closed) return;
    for (const entry of this.queue.closeFlow(flow.queue)) this.finishUnrun(entry, reason);
    // Expected no more (frames held back for it may start); nor its sender, if this was its last connection.
    this.flowHold.forget(flow.queue);
    if (flow.queue.group.members.size === 0) this.hold.forget(flow.queue.group);
    this.release(flow.group, flow);
    this.notifyRoom();
    this.notifyIfIdle();
  }

  private useOf(key: string): GroupUse {
    let use = this.uses.get(key);
    if (!use) {
      use = { flows: 0, frames: 0, bytes: 0 };
      this.uses.set(key, use);
    }
    use.flows++;
    return use;
  }

  /** The flow's connection leaves the sender's account (with what it still has waiting). */
  private release(key: string, flow: BatchFlow): void {
    const use = flow.use;
    use.flows--;
    use.frames -= flow.queuedFrames;
    use.bytes -= flow.queuedBytes;
    if (use.flows <= 0 && this.uses.get(key) === use) this.uses.delete(key);
  }

  /**
   * May `flow` queue another frame? Not over its own byte share; and while
   * the queue as a whole is over a limit (frames or bytes), only a sender
   * under its fair part of it (limit / senders with a connection) may go
   * on, and of that only a connection under its part of its sender's, so a
   * flood pauses the flooders, not the camera beside them, however many
   * connections they open. A connection with nothing waiting may always
   * queue one frame (and so read its HELLO): a sender's new connection is
   * never locked out by its others.
   */
  hasRoomFor(flow: BatchFlow): boolean {
    const o = this.options;
    const maxFrames = o.maxQueue ?? Number.POSITIVE_INFINITY;
    const maxBytes = o.maxQueueBytes ?? Number.POSITIVE_INFINITY;
    if (flow.queuedBytes >= (o.maxFlowQueueBytes ?? Number.POSITIVE_INFINITY)) return false;
    if (flow.queuedFrames === 0 || (this.queue.size < maxFrames && this.bytes < maxBytes)) return true;
    const senders = Math.max(1, this.uses.size);
    const use = flow.use;
    const flows = Math.max(1, use.flows);
    return (
      use.frames < maxFrames / senders &&
      use.bytes < maxBytes / senders &&
      flow.queuedFrames < maxFrames / senders / flows &&
      flow.queuedBytes < maxBytes / senders / flows
    );
  }

  /** Called whenever frames leave the queue, so paused sessions can go on. */
  onRoom(listener: () => void): void {
    this.roomListeners.push(listener);
  }

  /** `work`: the frame's decode work from its header (jpeg-inspect decodeWork), 0 if unknown. */
  submit(job: FrameJob, flow: BatchFlow, work = 0): JobTicket {
    const estimateUs = this.costs.estimate(flow.cost, work);
    const entry: Waiting = {
      job,
      flow,
      receivedAtMs: job.receivedAtMs,
      bytes: job.jpeg.byteLength,
      work,
      estimateUs,
      item: undefined,
      holder: undefined,
      long: false,
      held: false,
      resolve: () => undefined,
      state: 'queued',
    };
    const promise = new Promise<JobOutcome>((resolve) => {
      entry.resolve = resolve;
    });
    if (flow.closed) {
      this.finishUnrun(entry, 'connection closed');
    } else {
      entry.item = this.queue.push(flow.queue, entry, estimateUs);
      const now = this.now();
      this.hold.arrived(flow.queue.group, now);
      this.flowHold.arrived(flow.queue, now);
      flow.queuedFrames++;
      flow.queuedBytes += entry.bytes;
      flow.use.frames++;
      flow.use.bytes += entry.bytes;
      this.bytes += entry.bytes;
      this.pump();
    }
    // The closures reference `entry` only, never `job`: a cancelled frame's
    // bytes are freed at once even while its slot waits in the reply order.
    return { promise, cancel: (reason: string) => this.cancel(entry, reason) };
  }

  private cancel(entry: Waiting, reason: string): boolean {
    if (entry.state !== 'queued' || !entry.item) return false;
    this.queue.remove(entry.item);
    this.finishUnrun(entry, reason);
    this.notifyIfIdle();
    return true;
  }

  /** A queued frame leaves without running: answered dropped, its bytes released. */
  private finishUnrun(entry: Waiting, reason: string): void {
    if (entry.state === 'queued' && entry.item) this.unqueue(entry);
    entry.state = 'done';
    entry.job = undefined;
    entry.item = undefined;
    entry.resolve({ status: 'dropped', reason, timings: { ...zeroTimings(), queueUs: (nowMs() - entry.receivedAtMs) * 1000 } });
  }

  private unqueue(entry: Waiting): void {
    const flow = entry.flow;
    flow.queuedFrames--;
    flow.queuedBytes -= entry.bytes;
    flow.use.frames--;
    flow.use.bytes -= entry.bytes;
    this.bytes -= entry.bytes;
  }

  /** Resolves once nothing is queued or running (used by graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.queue.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** When the oldest waiting frame arrived (max delay counts from it). */
  private oldestWaitingMs(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const flow of this.queue.backloggedFlows()) {
      const head = this.queue.headOf(flow);
      if (head && head.value.receivedAtMs < oldest) oldest = head.value.receivedAtMs;
    }
    return oldest;
  }

  private pump(): void {
    while (this.running < this.slots && this.queue.size > 0) {
      const now = this.now();
      const full = this.queue.size >= this.options.maxBatch;
      if (!full && this.options.maxBatch > 1) {
        const waited = now - this.oldestWaitingMs();
        if (waited < this.options.maxDelayMs) {
          this.armTimer(this.options.maxDelayMs - waited);
          return;
        }
      }
      const batch: Waiting[] = [];
      let taken = 0;
      const mayStart = (flow: FlowQueue<Waiting>, cost: number): boolean => {
        if (this.hold.mayStart(flow.group, cost, now) && this.flowHold.mayStart(flow, cost, now)) return true;
        const head = this.queue.headOf(flow);
        if (head) head.value.held = true;
        return false;
      };
      // One at a time, so each frame counts against its sender's hold limit before the next is picked.
      while (batch.length < this.options.maxBatch) {
        // The queues may have changed since the last pick (a frame taken, cancelled or dropped unrun).
        this.hold.newPick();
        this.flowHold.newPick();
        const [item] = this.queue.take(1, mayStart);
        if (!item) break;
        taken++;
        const w = item.value;
        // A sender that left while its frames waited (a paused socket learns of it late) costs no worker time.
        if (w.job?.stillWanted?.() === false) {
          // take() charged its estimate to the sender (and credited lower classes): no worker time was spent.
          this.queue.charge(w.flow.queue, -w.estimateUs);
          this.finishUnrun(w, 'connection closed');
          continue;
        }
        this.unqueue(w);
        w.holder = { group: w.flow.queue.group, flow: w.flow.queue };
        w.long = this.hold.started(w.holder.group, w.estimateUs);
        this.flowHold.started(w.holder.flow, w.estimateUs);
        if (w.long) this.observer.longFrameStarted?.(w.held);
        batch.push(w);
      }
      if (batch.length > 0) this.dispatch(batch);
      else if (taken > 0) {
        this.notifyRoom();
        this.notifyIfIdle();
      } else {
        // Every waiting frame is long and its sender holds its share of the workers while others are active: it
        // starts when a frame finishes, or when a sender it was held for stops being expected.
        const at = Math.min(this.hold.nextExpiryMs(now), this.flowHold.nextExpiryMs(now));
        // Not worth keeping a process alive for: a server's sockets do, and the frame's sender is only waiting on others.
        if (Number.isFinite(at)) this.armTimer(at - now + 1)?.unref();
        return;
      }
    }
  }

  /** Pumps again in `delayMs`, unless a pump is already due sooner; returns the timer it armed, if any. */
  private armTimer(delayMs: number): NodeJS.Timeout | undefined {
    const at = this.now() + Math.max(0, delayMs);
    if (this.timer) {
      if (this.timerAtMs <= at) return undefined;
      clearTimeout(this.timer);
    }
    this.timerAtMs = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAtMs = Number.POSITIVE_INFINITY;
        this.pump();
      },
      Math.max(0, Math.ceil(delayMs)),
    );
    return this.timer;
  }

  private notifyRoom(): void {
    for (const listener of this.roomListeners) listener();
  }

  private dispatch(batch: Waiting[]): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAtMs = Number.POSITIVE_INFINITY;
    }
    for (const w of batch) {
      w.state = 'running';
      w.item = undefined;
    }
    this.running++;
    this.notifyRoom();
    this.observer.batchDispatched?.(batch.length);
    this.runner
      .runBatch(
        batch.map((w) => (w.job as FrameJob).jpeg),
        batch.map((w) => (w.job as FrameJob).motion === true),
        batch.map((w) => (w.job as FrameJob).inputPolicy),
        batch.map((w) => (w.job as FrameJob).movable === true),
      )
      .then(
        (result) => {
          // Native and tiled frames ran on their own (ownInferUs: all their tiles); the rest shared one run.
          let ownUs = 0;
          let sharing = 0;
          for (const o of result.outcomes) {
            if (!o?.ok) continue;
            if (o.ownInferUs !== undefined) ownUs += o.ownInferUs;
            else sharing++;
          }
          const sharedUs = Math.max(0, result.inferUs - ownUs);
          batch.forEach((w, i) => {
            const o = result.outcomes[i];
            const queueUs = Math.max(0, (result.startedAtMs - w.receivedAtMs) * 1000);
            // What this frame really took of a worker: its decode, and its own run or its share of the batch's:
            // a tiled camera is charged its tiles, not the cameras batched beside it.
            const inferShareUs = !o?.ok ? 0 : (o.ownInferUs ?? sharedUs / Math.max(1, sharing));
            this.charge(w, o ? o.decodeUs : 0, inferShareUs, o?.ok === true);
            if (o && o.ok) {
              const per = o.height * o.width;
              w.resolve({
                status: 'ok',
                count: o.count,
                density: { height: o.height, width: o.width, values: result.densities.subarray(o.densityOffset, o.densityOffset + per) },
                image: o.imageWidth && o.imageHeight ? { width: o.imageWidth, height: o.imageHeight } : undefined,
                grey: o.grey,
                // A native or tiled frame ran on its own: its own inference time, not the batch's.
                timings: { queueUs, decodeUs: o.decodeUs, inferUs: o.ownInferUs ?? result.inferUs },
                batchSize: result.batchSize,
              });
            } else {
              const reason = o ? o.reason : 'worker returned no outcome for this frame';
              const cause = o?.cause;
              // NaN/Inf out of the model is the server's failure, not the frame's.
              const status = cause === 'non-finite' ? 'server-error' : 'frame-error';
              w.resolve({ status, reason, cause, timings: { queueUs, decodeUs: o ? o.decodeUs : 0, inferUs: 0 } });
            }
          });
        },
        (err: unknown) => {
          const reason = `inference failed: ${err instanceof Error ? err.message : String(err)}`;
          for (const w of batch) w.resolve({ status: 'server-error', reason, timings: zeroTimings() });
        },
      )
      .finally(() => {
        for (const w of batch) {
          w.state = 'done';
          w.job = undefined;
          if (w.holder) {
            this.hold.finished(w.holder.group, w.long);
            this.flowHold.finished(w.holder.flow, w.long);
          }
          w.holder = undefined;
        }
        this.running--;
        this.pump();
        this.notifyIfIdle();
      });
  }

  /** Charges a frame's flow what the frame really cost beyond its estimate, and learns from it. */
  private charge(w: Waiting, decodeUs: number, inferUs: number, ok: boolean): void {
    const actualUs = decodeUs + inferUs;
    this.queue.charge(w.flow.queue, actualUs - w.estimateUs);
    // Failed frames teach nothing about inference; their decode time is still charged.
    if (ok) this.costs.learn(w.flow.cost, w.work, decodeUs, inferUs);
    this.observer.workerTime?.(w.flow.label, actualUs, w.flow.group);
  }

  private notifyIfIdle(): void {
    if (this.queue.size > 0 || this.running > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
