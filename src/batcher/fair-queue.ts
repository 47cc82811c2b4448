/**
 * Hierarchical start-time fair queueing of frames by worker time (Goyal et
 * al.'s SFQ, as the "virtual token counter" of fair LLM serving uses it), in
 * three tiers:
 *
 *   priority class  ->  group (who: an identity, or an address)  ->  flow (one connection)
 *
 * - A **group** is the unit of share: it has a weight and a virtual counter
 *   in worker microseconds per unit of weight, and take() serves the
 *   backlogged group with the smallest counter, so opening more connections
 *   buys a sender no more of the workers. Its weight is the largest its
 *   open flows claim for it (`groupWeight`, else their own weight; they
 *   normally agree: one identity, one weight).
 * - Inside a group, its backlogged **flows** are served the same way, by
 *   their own counters and weights, so a sender's connections share its
 *   share among themselves in proportion to their weights (an identity's
 *   cameras split its share by their own weights).
 * - A higher **class** is served first (Triton's priority levels), but not
 *   for ever: a backlogged lower class whose classes above it have been
 *   served `(1 - s) / s` times the cost of its next frame since it was last
 *   served (s = lowerClassShare, default 0.1: 9x) is served next. So a lower
 *   class gets at least about s of the worker time the classes above it use
 *   while it waits; s = 0 is strict priority.
 * - charge() adds what a frame really cost beyond (or below) its estimate,
 *   once a worker reports it, to its flow and group, so a sender whose
 *   frames cost more than predicted pays in its next turns.
 * - A group (flow) that becomes backlogged starts at its class's (group's)
 *   virtual time, the largest start tag served so far, if it is behind it:
 *   time spent idle banks no credit.
 *
 * Pure: no timers, no I/O. Cost O(groups + flows of the group served) per
 * frame taken (scans of the backlogged ones); measured by
 * bench/fair-queue-cost.ts.
 */

export interface FlowShare {
  /** Share of worker time relative to other groups of its class (> 0); inside a group, relative to its other flows. */
  weight: number;
  /** Higher classes are served first, as Triton's priority levels (bounded by lowerClassShare). */
  priority: number;
}

/** Where a flow belongs: its share, and its group (flows with the same key and class share one share). */
export interface FlowPlace extends FlowShare {
  /** Group key; absent: the flow is a group of its own. */
  group?: string;
  /** The group's weight this flow claims (> 0); `weight` is then its part inside the group only. Absent: `weight` is both. */
  groupWeight?: number;
}

export interface FairQueueOptions {
  /**
   * Least share of worker time a waiting lower class gets against the
   * classes above it, in [0, 0.5]; 0: strict priority (a lower class waits
   * while any higher one has frames). Default 0.1.
   */
  lowerClassShare?: number;
}

export const DEFAULT_LOWER_CLASS_SHARE = 0.1;

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

/** One connection's FIFO and counter inside its group. */
export class FlowQueue<T> {
  /** Virtual time within its group: the start tag of its next frame once backlogged. */
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
    public group: FlowGroup<T>,
    /** What it claims as its group's weight. */
    public groupWeight: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): Entry<T> | undefined {
    return this.items[this.head];
  }
}

/** A sender's share: its backlogged flows and its counter in its class. */
export class FlowGroup<T> {
  /** Virtual time in its class: the start tag of its next frame once backlogged. */
  tag = 0;
  /** Largest flow start tag served in this group (SFQ's v(t) one tier down). */
  virtualTime = 0;
  servedAt = 0;
  weight = 1;
  readonly members = new Set<FlowQueue<T>>();
  readonly backlogged: Array<FlowQueue<T>> = [];

  constructor(
    readonly key: string,
    readonly priority: number,
  ) {}
}

interface PriorityClass<T> {
  /** Largest group start tag served in this class (SFQ's v(t)). */
  virtualTime: number;
  backlogged: Array<FlowGroup<T>>;
  /** Worker time (estimates, then corrections) served to higher classes since this one was last served or became backlogged. */
  behind: number;
}

export class FairQueue<T> {
  private readonly classes = new Map<number, PriorityClass<T>>();
  /** Class priorities, highest first. */
  private order: number[] = [];
  private readonly groups = new Map<string, FlowGroup<T>>();
  /** Behind this many times its next frame's cost, a lower class is served (Infinity: strict priority). */
  private readonly overdueRatio: number;
  private nextId = 1;
  private served = 0;
  private count = 0;

  constructor(options: FairQueueOptions = {}) {
    const share = options.lowerClassShare ?? DEFAULT_LOWER_CLASS_SHARE;
    if (!(share >= 0 && share <= 0.5)) throw new RangeError(`lowerClassShare must be between 0 and 0.5, got ${share}`);
    this.overdueRatio = share === 0 ? Number.POSITIVE_INFINITY : (1 - share) / share;
  }

  /** Items queued, all flows. */
  get size(): number {
    return this.count;
  }

  openFlow(place: FlowPlace): FlowQueue<T> {
    checkShare(place);
    const id = this.nextId++;
    const flow = new FlowQueue<T>(
      id,
      { weight: place.weight, priority: place.priority },
      this.groupFor(place.group ?? `#${id}`, place.priority),
      place.groupWeight ?? place.weight,
    );
    flow.group.members.add(flow);
    this.reweigh(flow.group);
    return flow;
  }

  /** New share or group for a flow (after authentication, or a reload); applies to its next frames. */
  updateFlow(flow: FlowQueue<T>, place: FlowPlace): void {
    checkShare(place);
    if (flow.closed) return;
    const key = place.group ?? flow.group.key;
    const moving = key !== flow.group.key || place.priority !== flow.group.priority;
    const backlogged = flow.length > 0;
    if (moving) {
      if (backlogged) this.leave(flow);
      this.detach(flow);
      flow.group = this.groupFor(key, place.priority);
      flow.group.members.add(flow);
      // Its counter meant its old group's virtual time: it starts afresh in the new one (join lifts it).
      flow.tag = 0;
    }
    flow.share = { weight: place.weight, priority: place.priority };
    flow.groupWeight = place.groupWeight ?? place.weight;
    this.reweigh(flow.group);
    if (moving && backlogged) this.join(flow);
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

  /** Removes the flow (and only its items) and returns its queued items, oldest first. */
  closeFlow(flow: FlowQueue<T>): T[] {
    if (flow.closed) return [];
    const left = flow.items.slice(flow.head);
    for (const e of left) e.queued = false;
    this.count -= left.length;
    if (left.length > 0) this.leave(flow);
    flow.items = [];
    flow.head = 0;
    flow.closed = true;
    this.detach(flow);
    return left.map((e) => e.value);
  }

  /** Oldest queued item of the flow, or undefined. */
  headOf(flow: FlowQueue<T>): QueuedItem<T> | undefined {
    return flow.peek();
  }

  /** The flows with items queued (for the oldest-head check of max delay). */
  *backloggedFlows(): IterableIterator<FlowQueue<T>> {
    for (const p of this.order) for (const group of this.classes.get(p)!.backlogged) yield* group.backlogged;
  }

  /**
   * Up to `n` items in fair order (a batch). `mayStart(flow, cost)`: may
   * the flow's next item (of estimated `cost`) start now? A flow whose next
   * item may not is passed over, its counter brought up to the one served
   * (a held sender banks nothing), and the fair order goes on among the others: the group's other flows, then the other groups
   * (fewer than `n`, or none, when nothing may start).
   */
  take(n: number, mayStart?: MayStart<T>): Array<QueuedItem<T>> {
    const out: Array<QueuedItem<T>> = [];
    while (out.length < n && this.count > 0) {
      const picked = this.pick(mayStart);
      if (!picked) break;
      const { cls, group, flow } = picked;
      // A group (or flow) passed over because its next frame may not start is treated as idle, not as owed:
      // its counter comes up to the one served. Its sender is held because it already runs its share; left
      // behind, it would bank credit for as long as it is held and later take every worker until even.
      for (const g of cls.backlogged) if (g !== group && g.tag < group.tag) g.tag = group.tag;
      for (const f of group.backlogged) if (f !== flow && f.tag < flow.tag) f.tag = flow.tag;
      const entry = flow.items[flow.head++];
      entry.queued = false;
      this.count--;
      cls.virtualTime = Math.max(cls.virtualTime, group.tag);
      group.tag += entry.cost / group.weight;
      group.virtualTime = Math.max(group.virtualTime, flow.tag);
      flow.tag += entry.cost / flow.share.weight;
      group.servedAt = flow.servedAt = ++this.served;
      cls.behind = 0;
      this.addBehind(group.priority, entry.cost);
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
    // A flow that closed meanwhile left its group; the group pays while it has members.
    const group = flow.group;
    if (this.groups.get(groupId(group.key, group.priority)) === group) group.tag += delta / group.weight;
    this.addBehind(group.priority, delta);
  }

  /** The class and group served next: pickClass's class, or, where none of its groups may start, the next class in order that has one. */
  private pick(mayStart?: MayStart<T>): { cls: PriorityClass<T>; group: FlowGroup<T>; flow: FlowQueue<T> } | undefined {
    const cls = this.pickClass();
    const picked = pickGroup(cls, mayStart);
    if (picked) return { cls, ...picked };
    for (const p of this.order) {
      const other = this.classes.get(p)!;
      if (other === cls || other.backlogged.length === 0) continue;
      const g = pickGroup(other, mayStart);
      if (g) return { cls: other, ...g };
    }
    return undefined;
  }

  /** The highest class that is overdue for service (served last too long ago), else the highest with items. */
  private pickClass(): PriorityClass<T> {
    let top: PriorityClass<T> | undefined;
    for (const p of this.order) {
      const cls = this.classes.get(p)!;
      if (cls.backlogged.length === 0) continue;
      top ??= cls;
      if (cls !== top && cls.behind > 0 && cls.behind >= this.overdueRatio * nextCost(cls)) return cls;
    }
    if (!top) throw new Error('take() on an empty queue');
    return top;
  }

  /** Worker time served in class `priority`: every backlogged class below it waits that much longer. */
  private addBehind(priority: number, cost: number): void {
    for (const p of this.order) {
      if (p >= priority) continue;
      const cls = this.classes.get(p)!;
      if (cls.backlogged.length > 0) cls.behind = Math.max(0, cls.behind + cost);
    }
  }

  private groupFor(key: string, priority: number): FlowGroup<T> {
    const id = groupId(key, priority);
    let group = this.groups.get(id);
    if (!group) {
      group = new FlowGroup<T>(key, priority);
      this.groups.set(id, group);
    }
    return group;
  }

  /** The flow is no longer a member of its group; a group with no members is forgotten (it would rejoin at virtual time anyway). */
  private detach(flow: FlowQueue<T>): void {
    const group = flow.group;
    group.members.delete(flow);
    if (group.members.size === 0) this.groups.delete(groupId(group.key, group.priority));
    else this.reweigh(group);
  }

  private reweigh(group: FlowGroup<T>): void {
    let weight = 0;
    for (const f of group.members) weight = Math.max(weight, f.groupWeight);
    if (weight > 0) group.weight = weight;
  }

  private classOf(priority: number): PriorityClass<T> {
    let cls = this.classes.get(priority);
    if (!cls) {
      cls = { virtualTime: 0, backlogged: [], behind: 0 };
      this.classes.set(priority, cls);
      this.order = [...this.classes.keys()].sort((a, b) => b - a);
    }
    return cls;
  }

  /** The flow has items again: into its group's backlog, and the group into its class's. */
  private join(flow: FlowQueue<T>): void {
    const group = flow.group;
    // No banked credit: an idle flow (group) rejoins at its group's (class's) virtual time.
    flow.tag = Math.max(flow.tag, group.virtualTime);
    group.backlogged.push(flow);
    if (group.backlogged.length > 1) return;
    const cls = this.classOf(group.priority);
    group.tag = Math.max(group.tag, cls.virtualTime);
    if (cls.backlogged.length === 0) cls.behind = 0;
    cls.backlogged.push(group);
  }

  private leave(flow: FlowQueue<T>): void {
    const group = flow.group;
    const at = group.backlogged.indexOf(flow);
    if (at < 0) return;
    group.backlogged.splice(at, 1);
    if (group.backlogged.length > 0) return;
    const cls = this.classes.get(group.priority);
    if (!cls) return;
    const g = cls.backlogged.indexOf(group);
    if (g >= 0) cls.backlogged.splice(g, 1);
  }
}

function groupId(key: string, priority: number): string {
  return `${priority}\u0000${key}`;
}

/** Served first: the smaller counter; on a tie, the one served longer ago. */
const before = (a: { tag: number; servedAt: number }, b: { tag: number; servedAt: number }): boolean =>
  a.tag < b.tag || (a.tag === b.tag && a.servedAt < b.servedAt);

type MayStart<T> = (flow: FlowQueue<T>, cost: number) => boolean;

/**
 * The backlogged group of the class with the smallest counter, and its flow
 * served next; with `mayStart`, of those whose next item may start (a group
 * whose first flow is held back is served from another of its flows).
 */
function pickGroup<T>(cls: PriorityClass<T>, mayStart?: MayStart<T>): { group: FlowGroup<T>; flow: FlowQueue<T> } | undefined {
  let best = cls.backlogged[0];
  if (best === undefined) return undefined;
  for (const g of cls.backlogged) if (before(g, best)) best = g;
  if (!mayStart) return { group: best, flow: pickFlow(best) };
  const flow = startableFlow(best, mayStart);
  if (flow) return { group: best, flow };
  // The first choice is held back (rare): the best of those that may start.
  let other: { group: FlowGroup<T>; flow: FlowQueue<T> } | undefined;
  for (const g of cls.backlogged) {
    if (g === best || (other && !before(g, other.group))) continue;
    const f = startableFlow(g, mayStart);
    if (f) other = { group: g, flow: f };
  }
  return other;
}

/** The group's flow served next of those whose next item may start. */
function startableFlow<T>(group: FlowGroup<T>, mayStart: MayStart<T>): FlowQueue<T> | undefined {
  const first = pickFlow(group);
  if (mayStart(first, first.peek()?.cost ?? 0)) return first;
  let best: FlowQueue<T> | undefined;
  for (const f of group.backlogged) {
    if (f === first || (best && !before(f, best))) continue;
    if (mayStart(f, f.peek()?.cost ?? 0)) best = f;
  }
  return best;
}

function pickFlow<T>(group: FlowGroup<T>): FlowQueue<T> {
  let best = group.backlogged[0];
  for (const f of group.backlogged) if (before(f, best)) best = f;
  return best;
}

/** Estimated cost of the frame the class would serve next. */
function nextCost<T>(cls: PriorityClass<T>): number {
  return pickGroup(cls)?.flow.peek()?.cost ?? 0;
}

function checkShare(share: FlowPlace): void {
  if (!(share.weight > 0) || !Number.isFinite(share.weight)) throw new RangeError(`weight must be a finite number > 0, got ${share.weight}`);
  const group = share.groupWeight;
  if (group !== undefined && (!(group > 0) || !Number.isFinite(group))) throw new RangeError(`groupWeight must be a finite number > 0, got ${group}`);
  if (!Number.isInteger(share.priority)) throw new RangeError(`priority must be an integer, got ${share.priority}`);
}
