/**
 * EventBridge's input transformer, as its documentation describes it, for tests: moto_server applies a
 * rule's InputTransformer only on the way to the targets it implements (logs, SQS, event buses), and an
 * SNS topic is not one of them. Semantics followed
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html and the
 * InputTransformer API reference):
 * - InputPathsMap values are JSON paths in dot notation with array indices (`$.detail.checks[0].name`);
 *   a path the event lacks creates no variable, and its placeholder comes out empty.
 * - Predefined variables: `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event`,
 *   `aws.events.event.json`, `aws.events.event.ingestion-time`.
 * - Values are not escaped: a string value goes in as its raw text, except in a JSON template's value
 *   position (outside quotes), where a value goes in as JSON (`"instance": <instance>` gives `"i-0123"`).
 * - A JSON template (an object) must give valid JSON, passed on minified; any other template is passed
 *   on as written, quotes included (the tutorial's SNS message is `"This event was of customerCreated type."`).
 */
export interface InputTransformer {
  readonly InputPathsMap?: Readonly<Record<string, string>>;
  readonly InputTemplate: string;
}

export interface RuleIdentity {
  readonly name: string;
  readonly arn: string;
}

export class InputTransformError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InputTransformError';
  }
}

/** The text EventBridge hands the target for `event`. Throws `InputTransformError` when a JSON template gives invalid JSON. */
export function transformInput(
  transformer: InputTransformer,
  event: Record<string, unknown>,
  rule: RuleIdentity,
  ingestionTime = new Date().toISOString(),
): string {
  const variables = new Map<string, unknown>([
    ['aws.events.rule-arn', rule.arn],
    ['aws.events.rule-name', rule.name],
    ['aws.events.event', event],
    ['aws.events.event.json', JSON.stringify(event)],
    ['aws.events.event.ingestion-time', ingestionTime],
  ]);
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
    const found = readPath(event, path);
    if (found.found) variables.set(name, found.value);
  }
  const template = transformer.InputTemplate;
  const json = template.trim().startsWith('{');
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i] as string;
    if (inString && c === '\\') {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    if (c === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (/^[A-Za-z0-9_.-]+$/.test(name)) {
        const value = variables.get(name);
        out += value === undefined ? '' : insert(value, json && !inString);
        i = end;
        continue;
      }
    }
    out += c;
  }
  if (!json) return out;
  try {
    return JSON.stringify(JSON.parse(out));
  } catch (error) {
    throw new InputTransformError(`the input template gives invalid JSON: ${out.slice(0, 300)}`, { cause: error });
  }
}

/** A JSON template's value position takes JSON; anywhere else a string goes in as its raw text. */
function insert(value: unknown, asJson: boolean): string {
  return typeof value === 'string' && !asJson ? value : JSON.stringify(value);
}

/** `$.a.b[0].c`: dot notation and array indices, as EventBridge's input paths allow. */
export function readPath(root: unknown, path: string): { found: true; value: unknown } | { found: false } {
  if (!path.startsWith('$')) throw new InputTransformError(`input path ${path} does not start with $`);
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]));
  let value: unknown = root;
  for (const step of steps) {
    if (value === null || typeof value !== 'object') return { found: false };
    const next = (value as Record<string | number, unknown>)[step];
    if (next === undefined) return { found: false };
    value = next;
  }
  return { found: true, value };
}
