/**
 * Checks real API answers against docs/openapi.yaml: the operation's
 * response for the status and content type must exist, and a JSON body must
 * match its schema. The schema checker covers the JSON Schema words the file
 * uses (type with "null", oneOf, properties, required, additionalProperties,
 * items, enum, $ref, minimum, format date-time) and fails on any other word,
 * so the file cannot use one that is silently ignored.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/app/paths.js';

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  'oneOf',
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  '$ref',
  'minimum',
  'maximum',
  'format',
  'description',
  'example',
  'examples',
  'minItems',
  'maxItems',
]);

export function loadOpenApi(): Schema {
  return parse(readFileSync(path.join(PACKAGE_ROOT, 'docs', 'openapi.yaml'), 'utf8')) as Schema;
}

/** Problems of `value` against `schema` (empty: it matches). */
export function schemaProblems(doc: Schema, schema: Schema, value: unknown, where = '$'): string[] {
  for (const word of Object.keys(schema)) if (!KNOWN.has(word)) return [`${where}: the checker does not know the schema word "${word}"`];
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '');
    const target = ((doc.components as Schema).schemas as Record<string, Schema>)[name];
    if (!target) return [`${where}: unresolved ${schema.$ref}`];
    return schemaProblems(doc, target, value, where);
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as Schema[]).filter((s) => schemaProblems(doc, s, value, where).length === 0).length;
    if (matching !== 1)
      return [`${where}: ${JSON.stringify(value)?.slice(0, 60)} matches ${matching} of oneOf's ${schema.oneOf.length} schemas, not exactly one`];
  }
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  if (types.length > 0 && !types.some((t) => isType(t, value))) return [`${where}: ${JSON.stringify(value)?.slice(0, 60)} is not ${types.join(' or ')}`];
  if (value === null) return [];
  const problems: string[] = [];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    problems.push(`${where}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (typeof schema.minimum === 'number' && typeof value === 'number' && value < schema.minimum) problems.push(`${where}: ${value} < ${schema.minimum}`);
  if (typeof schema.maximum === 'number' && typeof value === 'number' && value > schema.maximum) problems.push(`${where}: ${value} > ${schema.maximum}`);
  if (schema.format === 'date-time' && (typeof value !== 'string' || Number.isNaN(Date.parse(value)) || !/T.*(Z|[+-]\d\d:\d\d)$/.test(value)))
    problems.push(`${where}: ${JSON.stringify(value)} is not a date-time`);
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${where}: fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${where}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => problems.push(...schemaProblems(doc, schema.items as Schema, v, `${where}[${i}]`)));
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in obj)) problems.push(`${where}: missing ${key}`);
    for (const [key, v] of Object.entries(obj)) {
      if (props[key]) problems.push(...schemaProblems(doc, props[key], v, `${where}.${key}`));
      else if (schema.additionalProperties === false) problems.push(`${where}: ${key} is not in the schema`);
      else if (typeof schema.additionalProperties === 'object')
        problems.push(...schemaProblems(doc, schema.additionalProperties as Schema, v, `${where}.${key}`));
    }
  }
  return problems;
}

function isType(type: string, v: unknown): boolean {
  switch (type) {
    case 'null':
      return v === null;
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return false;
  }
}

/** A checker bound to docs/openapi.yaml: asserts that a response to `method` (default GET) `apiPath` is described and matches. */
export function openApiChecker(): (
  t: ExecutionContext,
  apiPath: string,
  res: { status: number; contentType: string; body: string },
  method?: 'get' | 'put',
) => void {
  const doc = loadOpenApi();
  return (t, apiPath, res, method = 'get') => {
    const op = ((doc.paths as Record<string, Schema>)[apiPath]?.[method] ?? undefined) as Schema | undefined;
    if (!op) {
      t.fail(`docs/openapi.yaml has no ${method.toUpperCase()} ${apiPath}`);
      return;
    }
    let response = (op.responses as Record<string, Schema>)[String(res.status)];
    if (typeof response?.$ref === 'string')
      response = ((doc.components as Schema).responses as Record<string, Schema>)[response.$ref.replace('#/components/responses/', '')];
    if (!response) {
      t.fail(`docs/openapi.yaml: ${method.toUpperCase()} ${apiPath} has no ${res.status} response`);
      return;
    }
    const mediaType = res.contentType.split(';')[0];
    const content = (response.content as Record<string, Schema> | undefined)?.[mediaType];
    if (!content) {
      t.fail(`docs/openapi.yaml: ${method.toUpperCase()} ${apiPath} ${res.status} has no ${mediaType} content`);
      return;
    }
    if (mediaType !== 'application/json') return;
    t.deepEqual(
      schemaProblems(doc, content.schema as Schema, JSON.parse(res.body)),
      [],
      `${method.toUpperCase()} ${apiPath} ${res.status} matches docs/openapi.yaml`,
    );
  };
}
