/**
 * Start-time fair queueing of frames by worker time (Goyal et al.'s SFQ, as
 * the "virtual token counter" of fair LLM serving uses it): one FIFO per
 * flow (connection), each flow with a weight and a priority class, and a
 * virtual counter in worker microseconds per unit of weight.
 *
 * - take() serves the backlogged flow with the smallest counter in the
 *   highest class that has frames, and charges it the frame's estimated cost
 *   (counter += cost / weight); repeated, it fills a batch across flows.
 * - charge() adds what a frame really cost beyond (or below) its estimate,
 *   once a worker reports it, so a flow whose frames cost more than predicted
 *   pays in its next turns.
 * - A flow that becomes backlogged starts at the class's virtual time (the
 *   largest start tag served so far) if it is behind it: time spent idle
 *   banks no credit.
 *
 * Pure: no timers, no I/O. Cost O(flows) per frame taken (a scan of the
 * backlogged flows); measured by bench/fair-queue-cost.ts.
 */

export interface FlowShare {
  /** Share of worker time relative to other flows of its class (> 0). */
  weight: number;
  /** Higher classes are served first, as Triton's priority levels (strict). */
  priority: number;
}

export interface QueuedItem<T> {
  readonly value: T;
  /** Estimated worker time (us) charged when the item is taken. */
  readonly cost: number;
  readonly flow: FlowQueue<T>;
}

interface Entry<T> extends QueuedItem<T> {
  /** False once taken or removed. */
  queued: boolean;
}

/** One flow's FIFO and counter. */
export class FlowQueue<T> {
  /** Virtual time: the start tag of its next frame once backlogged. */
  tag = 0;
  /** Items, oldest first; `head` indexes the first live one. */
  items: Array<Entry<T>> = [];
  head = 0;
  /** Order of last service, for ties. */
  servedAt = 0;
  closed = false;

  constructor(
    readonly id: number,
    public share: FlowShare,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): Entry<T> | undefined {
    return this.items[this.head];
  }
}

interface PriorityClass<T> {
  /** Largest start tag served in this class (SFQ's v(t)). */
  virtualTime: number;
  backlogged: Array<FlowQueue<T>>;
}

export class FairQueue<T> {
  private readonly classes = new Map<number, PriorityClass<T>>();
  /** Class priorities, highest first. */
  private order: number[] = [];
  private nextId = 1;
  private served = 0;
  private count = 0;

  /** Items queued, all flows. */
  get size(): number {
    return this.count;
  }

  openFlow(share: FlowShare): FlowQueue<T> {
    checkShare(share);
    return new FlowQueue<T>(this.nextId++, { ...share });
  }

  /** New weight or class for a flow (after authentication); applies to its next frames. */
  updateFlow(flow: FlowQueue<T>, share: FlowShare): void {
    checkShare(share);
    if (flow.length > 0 && share.priority !== flow.share.priority) {
      this.leave(flow);
      flow.share = { ...share };
      this.join(flow);
    } else {
      flow.share = { ...share };
    }
  }

  push(flow: FlowQueue<T>, value: T, cost: number): QueuedItem<T> {
    if (flow.closed) throw new Error('flow is closed');
    if (!(cost >= 0) || !Number.isFinite(cost)) throw new RangeError(`cost must be a finite number >= 0, got ${cost}`);
    const entry: Entry<T> = { value, cost, flow, queued: true };
    flow.items.push(entry);
    this.count++;
    if (flow.length === 1) this.join(flow);
    return entry;
  }

  /** Withdraws a queued item; false if it was already taken or removed. */
  remove(item: QueuedItem<T>): boolean {
    const entry = item as Entry<T>;
    if (!entry.queued) return false;
    entry.queued = false;
    const flow = entry.flow;
    const at = flow.items.indexOf(entry, flow.head);
    flow.items.splice(at, 1);
    this.count--;
    if (flow.length === 0) this.leave(flow);
    return true;
  }

  /** Removes the flow and returns its queued items, oldest first. */
  closeFlow(flow: FlowQueue<T>): T[] {
    if (flow.closed) return [];
    const left = flow.items.slice(flow.head);
    for (const e of left) e.queued = false;
    this.count -= left.length;
    if (left.length > 0) this.leave(flow);
    flow.items = [];
    flow.head = 0;
    flow.closed = true;
    return left.map((e) => e.value);
  }

  /** Oldest queued item of the flow, or undefined. */
  headOf(flow: FlowQueue<T>): QueuedItem<T> | undefined {
    return flow.peek();
  }

  /** The flows with items queued (for the oldest-head check of max delay). */
  *backloggedFlows(): IterableIterator<FlowQueue<T>> {
    for (const p of this.order) yield* this.classes.get(p)!.backlogged;
  }

  /** Up to `n` items in fair order (a batch). */
  take(n: number): Array<QueuedItem<T>> {
    const out: Array<QueuedItem<T>> = [];
    while (out.length < n && this.count > 0) {
      const flow = this.pick();
      const entry = flow.items[flow.head++];
      entry.queued = false;
      this.count--;
      const cls = this.classes.get(flow.share.priority)!;
      cls.virtualTime = Math.max(cls.virtualTime, flow.tag);
      flow.tag += entry.cost / flow.share.weight;
      flow.servedAt = ++this.served;
      if (flow.head > 32 && flow.head * 2 > flow.items.length) {
        flow.items = flow.items.slice(flow.head);
        flow.head = 0;
      }
      if (flow.length === 0) this.leave(flow);
      out.push(entry);
    }
    return out;
  }

  /** A taken item really cost `delta` more (or, negative, less) than its estimate. */
  charge(flow: FlowQueue<T>, delta: number): void {
    if (!Number.isFinite(delta)) return;
    flow.tag += delta / flow.share.weight;
  }

  /** Backlogged flow with the smallest counter in the highest class with items. */
  private pick(): FlowQueue<T> {
    for (const p of this.order) {
      const cls = this.classes.get(p)!;
      let best: FlowQueue<T> | undefined;
      for (const f of cls.backlogged) {
        if (!best || f.tag < best.tag || (f.tag === best.tag && f.servedAt < best.servedAt)) best = f;
      }
      if (best) return best;
    }
    throw new Error('take() on an empty queue');
  }

  private join(flow: FlowQueue<T>): void {
    let cls = this.classes.get(flow.share.priority);
    if (!cls) {
      cls = { virtualTime: 0, backlogged: [] };
      this.classes.set(flow.share.priority, cls);
      this.order = [...this.classes.keys()].sort((a, b) => b - a);
    }
    // No banked credit: an idle flow rejoins at the class's virtual time.
    flow.tag = Math.max(flow.tag, cls.virtualTime);
    cls.backlogged.push(flow);
  }

  private leave(flow: FlowQueue<T>): void {
    const cls = this.classes.get(flow.share.priority);
    if (!cls) return;
    const at = cls.backlogged.indexOf(flow);
    if (at >= 0) cls.backlogged.splice(at, 1);
  }
}

function checkShare(share: FlowShare): void {
  if (!(share.weight > 0) || !Number.isFinite(share.weight)) throw new RangeError(`weight must be a finite number > 0, got ${share.weight}`);
  if (!Number.isInteger(share.priority)) throw new RangeError(`priority must be an integer, got ${share.priority}`);
}
