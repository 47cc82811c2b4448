/** The default model (crowdline-v1) loads through the server's loader and behaves sanely. */
import { DEFAULT_MODEL_PATH } from '../src/app/paths.js';
import { registerModelChecks } from './helpers/model-checks.js';

registerModelChecks({
  modelPath: DEFAULT_MODEL_PATH,
  name: 'crowdline-v1',
  maxBytes: 10 * 1024 * 1024,
  missingReason: 'train and export it with models/train.py and models/export.py',
});
