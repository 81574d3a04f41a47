import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { planJsonSchemaText, schemaPath } from '../lib/plan/json-schema.ts';

export const schemaUsage = `usage: greenlight schema [--write | --check]

Prints the plan's JSON Schema (draft-07), made from the same definitions greenlight validate checks
plans with. Editors use it through the first line of a plan:
  # yaml-language-server: $schema=<path or URL of ${schemaPath}>     (YAML)
  "$schema": "<path or URL of ${schemaPath}>"                         (JSON)

options:
  --write     write it to ${schemaPath} in this checkout instead of printing it
  --check     exit 1 when ${schemaPath} differs from what the definitions make
  -h, --help

exit codes: 0 done (or up to date), 1 the committed schema is out of date, 2 usage error.`;

/** The repository root: the committed schema's path is relative to it. */
const root = new URL('../', import.meta.url).pathname;

/** `greenlight schema`. Returns the exit code. */
export async function schemaCommand(argv: readonly string[]): Promise<number> {
  let values: { write?: boolean; check?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { write: { type: 'boolean' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`schema: ${(error as Error).message}\n\n${schemaUsage}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${schemaUsage}\n`);
    return 0;
  }
  if (values.write && values.check) {
    process.stderr.write(`schema: give --write or --check, not both\n\n${schemaUsage}\n`);
    return 2;
  }
  const text = planJsonSchemaText();
  const file = join(root, schemaPath);
  if (values.write) {
    await writeFile(file, text);
    process.stderr.write(`wrote ${schemaPath}\n`);
    return 0;
  }
  if (values.check) {
    const committed = await readFile(file, 'utf8').catch(() => undefined);
    if (committed === text) return 0;
    process.stderr.write(`${schemaPath} is out of date: run greenlight schema --write\n`);
    return 1;
  }
  process.stdout.write(text);
  return 0;
}
