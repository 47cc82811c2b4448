/** crowdline-v2, picked by its short name, passes the same checks as the default model. */
import path from 'node:path';
import test from 'ava';
import { PACKAGE_ROOT, modelPath } from '../src/app/paths.js';
import { registerModelChecks } from './helpers/model-checks.js';

test('a bare model name resolves to models/<name>.onnx; paths are kept as given', (t) => {
  t.is(modelPath('crowdline-v2'), path.join(PACKAGE_ROOT, 'models', 'crowdline-v2.onnx'));
  t.is(modelPath('net.onnx'), 'net.onnx');
  t.is(modelPath('./crowdline-v2'), './crowdline-v2');
  t.is(modelPath('/abs/crowdline-v2.json'), '/abs/crowdline-v2.json');
});

registerModelChecks({
  modelPath: modelPath('crowdline-v2'),
  name: 'crowdline-v2',
  maxBytes: 15_000_000,
  missingReason: 'still training: export it with models/export.py --model crowdline-v2',
});
