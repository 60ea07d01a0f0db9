import type { ParamSchema, ParamSpec } from '../src/util/param_schema.js';
import { COMMON_PARAMS } from '../framework/params/common.js';
import { stringify } from 'yaml';

// `dynastack params <exec>`: a node's declared parameters, for people and for docs.

function constraint(spec: ParamSpec): string {
  const parts: string[] = [];
  if ('range' in spec && spec.range) parts.push(`range [${spec.range[0]}, ${spec.range[1]}]`);
  if ('choices' in spec && spec.choices) parts.push(`one of ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`);
  if ('length' in spec && spec.length !== undefined) parts.push(`${spec.length} elements`);
  if ('nonEmpty' in spec && spec.nonEmpty) parts.push('not empty');
  return parts.join('; ');
}

export function paramsTable(exec: string, description: string, schema: ParamSchema): string {
  const rows = Object.entries({ ...schema, ...COMMON_PARAMS }).map(([name, spec]) => [
    name,
    spec.type,
    JSON.stringify(spec.default),
    constraint(spec),
    spec.description,
  ]);
  const header = ['parameter', 'type', 'default', 'constraint', 'description'];
  const lines = [`${exec}: ${description}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`);
  return lines.join('\n');
}

/** A parameter file holding every default, ready to edit. */
export function paramsYaml(nodeName: string, schema: ParamSchema): string {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(schema)) values[name] = spec.default;
  return stringify({ [nodeName]: { ros__parameters: values } });
}
