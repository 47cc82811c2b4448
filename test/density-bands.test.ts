/** Error by density band (models/density-bands.ts), as `crowdline eval` reports it. */
import test from 'ava';
import { densityBands, formatBands, parseBandEdges } from '../models/density-bands.js';

test('images fall in the band of their true count; each band has its own errors', (t) => {
  const rows = [
    { truth: 10, predicted: 12 },
    { truth: 99, predicted: 95 },
    { truth: 100, predicted: 130 },
    { truth: 499, predicted: 400 },
    { truth: 500, predicted: 300 },
    { truth: 2000, predicted: 1500 },
  ];
  const [sparse, mid, dense] = densityBands(rows);
  t.deepEqual([sparse.label, mid.label, dense.label], ['< 100', '100-500', '500+']);
  t.deepEqual([sparse.images, mid.images, dense.images], [2, 2, 2]);
  t.is(sparse.mae, 3);
  t.is(sparse.bias, -1);
  t.is(mid.mae, (30 + 99) / 2);
  t.is(mid.rmse, Math.sqrt((30 * 30 + 99 * 99) / 2));
  t.is(dense.meanTruth, 1250);
  t.is(dense.meanPredicted, 900);
  t.is(dense.bias, -350);
});

test('custom edges, empty bands reported as empty', (t) => {
  const bands = densityBands([{ truth: 5, predicted: 5 }], parseBandEdges('50,200,1000'));
  t.is(bands.length, 4);
  t.is(bands[3].images, 0);
  t.true(Number.isNaN(bands[3].mae));
  t.regex(formatBands(bands), /1000\+\s+no images/);
});

test('band edges must be positive and ascending', (t) => {
  t.throws(() => parseBandEdges('500,100'), { instanceOf: RangeError });
  t.throws(() => parseBandEdges('0,100'), { instanceOf: RangeError });
  t.throws(() => parseBandEdges('a'), { instanceOf: RangeError });
});
