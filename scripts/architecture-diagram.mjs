#!/usr/bin/env node
// Regenerates the pictures at the top of docs/architecture.md from the code
// (npm run docs:architecture): dependency-cruiser, with the project's own
// config, collapsed to folders, as mermaid, written between the markers.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const doc = path.join(root, 'docs', 'architecture.md');
const depcruise = path.join(root, 'node_modules', '.bin', 'depcruise');
const SOURCES = ['src', 'cli', 'client', 'bench', 'models'];

function mermaid(collapse) {
  const args = [
    '--config',
    '.dependency-cruiser.cjs',
    '--output-type',
    'mermaid',
    '--include-only',
    `^(${SOURCES.join('|')})/`,
    '--collapse',
    collapse,
    ...SOURCES,
  ];
  return execFileSync(depcruise, args, { cwd: root, encoding: 'utf8' }).trim();
}

const pictures = {
  layers: mermaid(`^(${SOURCES.join('|')})/`),
  folders: mermaid('^(src/[^/]+|client/[^/]+|cli|bench|models)/'),
};

let text = readFileSync(doc, 'utf8');
for (const [name, chart] of Object.entries(pictures)) {
  const start = `<!-- generated:${name} -->`;
  const end = `<!-- /generated:${name} -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${doc}: markers ${start} ... ${end} not found`);
  text = `${text.slice(0, from + start.length)}\n\`\`\`mermaid\n${chart}\n\`\`\`\n${text.slice(to)}`;
}
writeFileSync(doc, text);
console.log(`${path.relative(root, doc)}: ${Object.keys(pictures).join(', ')} regenerated`);
