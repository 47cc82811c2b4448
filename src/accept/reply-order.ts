/**
 * Frames of one connection in arrival order. Outcomes may land in any order
 * (workers finish out of order); `takeReady` releases only the unbroken run
 * at the front, so replies leave in the order frames came in.
 */
export class ReplyOrder<Slot extends { done: boolean }> {
  private readonly slots: Slot[] = [];

  get size(): number {
    return this.slots.length;
  }

  add(slot: Slot): void {
    this.slots.push(slot);
  }

  /** Oldest slot matching `pred` (for drop-oldest). */
  find(pred: (slot: Slot) => boolean): Slot | undefined {
    return this.slots.find(pred);
  }

  all(): readonly Slot[] {
    return this.slots;
  }

  /** Removes and returns the completed slots at the front. */
  takeReady(): Slot[] {
    let n = 0;
    while (n < this.slots.length && this.slots[n].done) n++;
    return n === 0 ? [] : this.slots.splice(0, n);
  }
}
