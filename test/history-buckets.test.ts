/** Which step a history range gets, for the API's default and the console's chart (src/history/buckets.ts). */
import test from 'ava';
import fc from 'fast-check';
import { API_STEPS, bucketCount, CHART_STEPS, stepAtLeast, stepFor } from '../src/history/buckets.js';

const HOUR = 3600;
const DAY = 86_400;

test('the API default: the least step that keeps a range within 1000 buckets', (t) => {
  t.is(stepFor(600, 1000, API_STEPS), 1);
  t.is(stepFor(HOUR, 1000, API_STEPS), 5);
  t.is(stepFor(DAY, 1000, API_STEPS), 300);
  t.is(stepFor(7 * DAY, 1000, API_STEPS), 1800);
  t.is(stepFor(31 * DAY, 1000, API_STEPS), 3600);
  t.is(stepFor(100_000 * DAY, 1000, API_STEPS), DAY, 'past the ladder: its largest');
});

test("the console chart's ladder is finer at 24 h and 7 d", (t) => {
  t.is(stepFor(600, 1000, CHART_STEPS), 1);
  t.is(stepFor(DAY, 1000, CHART_STEPS), 120);
  t.is(stepFor(7 * DAY, 1000, CHART_STEPS), 900);
  t.is(stepFor(30 * DAY, 1000, CHART_STEPS), HOUR);
});

test('every step divides a minute or is whole minutes, and whole hours past an hour (buckets line up with the stored rows)', (t) => {
  for (const s of [...API_STEPS, ...CHART_STEPS]) {
    t.true(s < 60 ? 60 % s === 0 : s % 60 === 0 && (s < HOUR || s % HOUR === 0), String(s));
  }
});

test('stepFor: the least step of the ladder whose bucket count is within the limit', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 * DAY }), fc.integer({ min: 1, max: 5000 }), (span, max) => {
      const step = stepFor(span, max, CHART_STEPS);
      const fits = CHART_STEPS.filter((s) => bucketCount(span, s) <= max);
      return fits.length > 0 ? step === fits[0] && bucketCount(span, step) * step >= span : step === CHART_STEPS[CHART_STEPS.length - 1];
    }),
  );
  t.pass();
});

test("stepAtLeast: the ladder's first step at or above a server's least step", (t) => {
  t.is(stepAtLeast(8, CHART_STEPS), 10);
  t.is(stepAtLeast(10, CHART_STEPS), 10);
  t.is(stepAtLeast(100, CHART_STEPS), 120);
  t.is(stepAtLeast(DAY + 1, CHART_STEPS), undefined);
});
