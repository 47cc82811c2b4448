/**
 * The selected zone's fields: name, capacity, smoothing, and its alert rules
 * (level, metric, threshold, hold time, clear threshold and hold). What the
 * server's parser refused is shown beside the field it names.
 */
import type { ComponentChildren } from 'preact';
import { newRule, type FieldError, type RuleDraft, type ZoneDraft } from './zone-editor-model.js';

interface FormProps {
  zone: ZoneDraft;
  /** Errors for this zone (field '' or unknown: shown at the top). */
  errors: readonly FieldError[];
  maxRules: number;
  onChange: (zone: ZoneDraft, field: string) => void;
  onDelete: () => void;
}

const FIELDS = new Set(['name', 'capacity', 'smoothing_s', 'polygon']);

export function ZoneForm({ zone, errors, maxRules, onChange, onDelete }: FormProps) {
  const errorOf = (field: string): string | undefined => errors.find((e) => e.field === field)?.message;
  const general = errors.filter((e) => !FIELDS.has(e.field) && !/^alerts\.\d+\.\w+$/.test(e.field));
  const set = (patch: Partial<ZoneDraft>, field: string): void => onChange({ ...zone, ...patch }, field);
  const setRule = (index: number, patch: Partial<RuleDraft>, field: string): void =>
    set({ alerts: zone.alerts.map((r, i) => (i === index ? { ...r, ...patch } : r)) }, `alerts.${index}.${field}`);
  return (
    <section class="zone-form" data-zone-key={zone.key}>
      {general.map((e) => (
        <p key={e.field} class="field-error general" data-field={e.field}>
          {e.message}
        </p>
      ))}
      <Field label="Name" field="name" error={errorOf('name')}>
        <input name="name" value={zone.name} maxLength={64} autoComplete="off" onInput={(e) => set({ name: e.currentTarget.value }, 'name')} />
      </Field>
      <div class="field-row">
        <Field label="Capacity (people)" field="capacity" error={errorOf('capacity')}>
          <input
            name="capacity"
            inputMode="decimal"
            value={zone.capacity}
            placeholder="none"
            onInput={(e) => set({ capacity: e.currentTarget.value }, 'capacity')}
          />
        </Field>
        <Field label="Smoothing (s)" field="smoothing_s" error={errorOf('smoothing_s')}>
          <input
            name="smoothing_s"
            inputMode="decimal"
            value={zone.smoothing_s}
            placeholder="5"
            onInput={(e) => set({ smoothing_s: e.currentTarget.value }, 'smoothing_s')}
          />
        </Field>
      </div>
      <p class="corners">
        {zone.polygon.length} corners
        {errorOf('polygon') && (
          <span class="field-error" data-field="polygon">
            {errorOf('polygon')}
          </span>
        )}
      </p>
      <h3>Alert rules</h3>
      {zone.alerts.length === 0 && <p class="hint">No rules: this zone is counted, never alerts.</p>}
      {zone.alerts.map((rule, i) => (
        <fieldset key={i} class="rule" data-rule={i}>
          <div class="rule-line">
            <select name={`alerts.${i}.level`} value={rule.level} onChange={(e) => setRule(i, { level: e.currentTarget.value }, 'level')} aria-label="level">
              <option value="warning">warning</option>
              <option value="alarm">alarm</option>
            </select>
            <span>when</span>
            <select
              name={`alerts.${i}.metric`}
              value={rule.metric}
              onChange={(e) => setRule(i, { metric: e.currentTarget.value }, 'metric')}
              aria-label="metric"
            >
              <option value="smoothed">smoothed</option>
              <option value="people">people now</option>
              <option value="occupancy">occupancy</option>
            </select>
            <button type="button" class="remove-rule" onClick={() => set({ alerts: zone.alerts.filter((_, j) => j !== i) }, 'alerts')} aria-label="remove rule">
              ✕
            </button>
          </div>
          <div class="rule-grid">
            <RuleInput
              label="raise at"
              title="raised when the value is this or more (occupancy: 0.9 is 90 % of capacity)"
              rule={rule}
              index={i}
              field="above"
              error={errorOf(`alerts.${i}.above`)}
              onInput={setRule}
            />
            <RuleInput
              label="for s"
              title="for this many seconds without a break"
              rule={rule}
              index={i}
              field="for_s"
              error={errorOf(`alerts.${i}.for_s`)}
              onInput={setRule}
            />
            <RuleInput
              label="clear below"
              title="cleared below this (default: the threshold)"
              rule={rule}
              index={i}
              field="clear_below"
              error={errorOf(`alerts.${i}.clear_below`)}
              onInput={setRule}
            />
            <RuleInput
              label="for s"
              title="cleared after this many seconds below (default: the raise time)"
              rule={rule}
              index={i}
              field="clear_for_s"
              error={errorOf(`alerts.${i}.clear_for_s`)}
              onInput={setRule}
            />
          </div>
          {(['level', 'metric'] as const).map(
            (f) =>
              errorOf(`alerts.${i}.${f}`) && (
                <p key={f} class="field-error" data-field={`alerts.${i}.${f}`}>
                  {errorOf(`alerts.${i}.${f}`)}
                </p>
              ),
          )}
        </fieldset>
      ))}
      <div class="form-actions">
        <button type="button" class="add-rule" disabled={zone.alerts.length >= maxRules} onClick={() => set({ alerts: [...zone.alerts, newRule()] }, 'alerts')}>
          + Rule
        </button>
        <button type="button" class="delete-zone danger" onClick={onDelete}>
          Delete zone
        </button>
      </div>
    </section>
  );
}

function Field({ label, field, error, children }: { label: string; field: string; error: string | undefined; children: ComponentChildren }) {
  return (
    <label class={`field${error ? ' invalid' : ''}`}>
      <span class="field-label">{label}</span>
      {children}
      {error && (
        <span class="field-error" data-field={field}>
          {error}
        </span>
      )}
    </label>
  );
}

type RuleField = 'above' | 'for_s' | 'clear_below' | 'clear_for_s';

function RuleInput(props: {
  label: string;
  title: string;
  rule: RuleDraft;
  index: number;
  field: RuleField;
  error: string | undefined;
  onInput: (index: number, patch: Partial<RuleDraft>, field: string) => void;
}) {
  const { label, title, rule, index, field, error, onInput } = props;
  return (
    <label class={`field${error ? ' invalid' : ''}`} title={title}>
      <span class="field-label">{label}</span>
      <input
        name={`alerts.${index}.${field}`}
        inputMode="decimal"
        value={rule[field]}
        onInput={(e) => onInput(index, { [field]: e.currentTarget.value }, field)}
      />
      {error && (
        <span class="field-error" data-field={`alerts.${index}.${field}`}>
          {error}
        </span>
      )}
    </label>
  );
}
