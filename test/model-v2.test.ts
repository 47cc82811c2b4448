/** crowdline-v2, picked by its short name, passes the same checks as the default model. */
import path from 'node:path';
import test from 'ava';
import { defaultModelName } from '../src/app/default-model.js';
import { PACKAGE_ROOT, modelPath } from '../src/app/paths.js';
import { registerModelChecks } from './helpers/model-checks.js';

test('a bare model name resolves to models/<name>.onnx; paths are kept as given', (t) => {
  t.is(modelPath('crowdline-v2'), path.join(PACKAGE_ROOT, 'models', 'crowdline-v2.onnx'));
  t.is(modelPath('net.onnx'), 'net.onnx');
  t.is(modelPath('./crowdline-v2'), './crowdline-v2');
  t.is(modelPath('/abs/crowdline-v2.json'), '/abs/crowdline-v2.json');
});

test('the default model: crowdline-v2 where CUDA is asked for or installed (auto), crowdline-v1 on CPU', (t) => {
  t.is(defaultModelName('cuda', false), 'crowdline-v2');
  t.is(defaultModelName('auto', true), 'crowdline-v2');
  t.is(defaultModelName('auto', false), 'crowdline-v1');
  t.is(defaultModelName('cpu', true), 'crowdline-v1');
});

registerModelChecks({
  modelPath: modelPath('crowdline-v2'),
  name: 'crowdline-v2',
  maxBytes: 15_000_000,
  missingReason: 'still training: export it with models/export.py --model crowdline-v2',
});
