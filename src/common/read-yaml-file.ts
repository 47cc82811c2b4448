import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { UsageError } from './usage-error.js';

/** Reads a YAML file named by a flag; a missing file or bad YAML is a usage error naming the flag and the file. */
export function readYamlFile(file: string, flag = '--config'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
}
