/**
 * Predicts a frame's worker time before it runs, and learns from what frames
 * really cost. The fair queue charges the prediction when a frame is taken
 * and the difference once the worker reports, so the prediction only orders
 * frames in the short run; a poor one cannot buy a connection more than its
 * share.
 *
 *   prior(work)     = inferUs + decodeUsPerWork x work              (both learned over all frames)
 *   estimate(frame) = avgUs(connection) x prior(work) / prior(avgWork(connection))
 *                     (the prior alone until the connection's first frame is reported)
 *
 * `work` comes from the JPEG header (width x height x passes, see
 * jpeg-inspect's decodeWork); 0 when unknown.
 */

/** Moving-average weight of a new observation. */
const ALPHA = 0.2;
/** Priors are floored here (us), so a runner that reports no time at all still yields a usable ratio. */
const MIN_PRIOR_US = 1;

export interface CostModelPriors {
  /** Inference per frame (us) before any is measured. */
  inferUs: number;
  /** Decode us per unit of work (pixel-pass) before any is measured. */
  decodeUsPerWork: number;
}

/** ~20 ms of inference and ~4 ms to decode a 768x576 frame on one CPU core. */
export const DEFAULT_COST_PRIORS: CostModelPriors = { inferUs: 20_000, decodeUsPerWork: 0.01 };

/**
 * What the model knows about one connection: moving averages of what its
 * frames really cost and of their work. A frame of other work than usual is
 * scaled by the prior's ratio of the two (so a connection that switches to
 * 4K is predicted dearer at once), evaluated with today's shared terms.
 */
export class FlowCost {
  avgUs = 0;
  avgWork = 0;
  seen = 0;
}

export class CostModel {
  private inferUs: number;
  private decodeUsPerWork: number;

  constructor(priors: CostModelPriors = DEFAULT_COST_PRIORS) {
    this.inferUs = priors.inferUs;
    this.decodeUsPerWork = priors.decodeUsPerWork;
  }

  private prior(work: number): number {
    return Math.max(MIN_PRIOR_US, this.inferUs + this.decodeUsPerWork * work);
  }

  /** Predicted worker time (us) of a frame of `work` from this connection. */
  estimate(flow: FlowCost, work: number): number {
    if (flow.seen === 0) return this.prior(work);
    return (flow.avgUs * this.prior(work)) / this.prior(flow.avgWork);
  }

  /**
   * A worker reported a frame that ran: `decodeUs` (its own) and `inferUs`
   * (its share of the batch's inference).
   */
  learn(flow: FlowCost, work: number, decodeUs: number, inferUs: number): void {
    if (!(decodeUs >= 0 && inferUs >= 0)) return;
    const actual = decodeUs + inferUs;
    if (flow.seen++ === 0) {
      flow.avgUs = actual;
      flow.avgWork = work;
    } else {
      flow.avgUs += ALPHA * (actual - flow.avgUs);
      flow.avgWork += ALPHA * (work - flow.avgWork);
    }
    this.inferUs += ALPHA * (inferUs - this.inferUs);
    if (work > 0) this.decodeUsPerWork += ALPHA * (decodeUs / work - this.decodeUsPerWork);
  }
}
