/**
 * Alert state of one zone: each rule is raised when its value stays >= above
 * for its hold time and cleared when it stays < clearBelow for its clear
 * time; any break restarts the clock. The gap between above and clearBelow
 * plus the hold times is what stops flapping (Prometheus alert `for:`,
 * DeepStream overcrowding with hysteresis). The zone's state is the highest
 * level among raised rules.
 */
import { ZoneAlertState, type ZoneAlertStateCode } from '../framing/index.js';
import type { AlertMetric, AlertRule } from './site-file.js';

export interface AlertValues {
  people: number;
  smoothed: number;
  occupancy: number;
}

export interface AlertTransition {
  state: ZoneAlertStateCode;
  previous: ZoneAlertStateCode;
  /** The rule that raised or cleared (its text); "reset" when state was dropped after a gap. */
  rule: string;
  /** That rule's value at the transition. */
  value: number;
  metric: AlertMetric | 'none';
}

interface RuleState {
  raised: boolean;
  /** When the value started being on the other side of the threshold (undefined: it is not). */
  since: number | undefined;
}

export class ZoneAlerts {
  private readonly states: RuleState[];
  private level: ZoneAlertStateCode = ZoneAlertState.Ok;

  constructor(private readonly rules: readonly AlertRule[]) {
    this.states = rules.map(() => ({ raised: false, since: undefined }));
  }

  get state(): ZoneAlertStateCode {
    return this.level;
  }

  /** Feeds one frame's values; returns the transition when the zone's state changed. */
  update(values: AlertValues, timeMs: number): AlertTransition | undefined {
    let changed: { rule: AlertRule; value: number } | undefined;
    this.rules.forEach((rule, i) => {
      const s = this.states[i];
      const value = values[rule.metric];
      const crossing = s.raised ? !(value >= rule.clearBelow) : value >= rule.above;
      if (!crossing) {
        s.since = undefined;
        return;
      }
      s.since ??= timeMs;
      if (timeMs - s.since >= (s.raised ? rule.clearForMs : rule.forMs)) {
        s.raised = !s.raised;
        s.since = undefined;
        // The rule that decides the new level is the one reported: prefer the highest level that changed.
        if (!changed || rule.level > changed.rule.level) changed = { rule, value };
      }
    });
    if (!changed) return undefined;
    const next = this.rules.reduce<ZoneAlertStateCode>((top, rule, i) => (this.states[i].raised && rule.level > top ? rule.level : top), ZoneAlertState.Ok);
    if (next === this.level) return undefined;
    const transition: AlertTransition = { state: next, previous: this.level, rule: changed.rule.text, value: changed.value, metric: changed.rule.metric };
    this.level = next;
    return transition;
  }

  /** Forget everything (a long gap); returns a transition to ok when the zone was not ok. */
  reset(): AlertTransition | undefined {
    for (const s of this.states) {
      s.raised = false;
      s.since = undefined;
    }
    if (this.level === ZoneAlertState.Ok) return undefined;
    const transition: AlertTransition = { state: ZoneAlertState.Ok, previous: this.level, rule: 'reset', value: Number.NaN, metric: 'none' };
    this.level = ZoneAlertState.Ok;
    return transition;
  }
}
