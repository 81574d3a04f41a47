import { readFile } from 'node:fs/promises';
import { load, Schema, Type } from 'js-yaml';
import { entryPoint as functionEntry } from './build-targets.ts';

/** CloudFormation short-form intrinsics (!Ref, !Sub, ...) as their long forms, so js-yaml can read a template. */
const intrinsics = [
  'Ref',
  'Sub',
  'GetAtt',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Join',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'Base64',
  'Condition',
  'GetAZs',
  'Cidr',
];
/** The intrinsics' YAML tags, for a reader that also wants YAML's core types (booleans, numbers). */
export const intrinsicTags = intrinsics.flatMap((name) =>
  (['scalar', 'sequence', 'mapping'] as const).map(
    (kind) =>
      new Type(`!${name}`, {
        kind,
        construct: (data: unknown) => {
          const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
          if (name === 'GetAtt' && typeof data === 'string') return { [key]: data.split('.') };
          return { [key]: data };
        },
      }),
  ),
);
const schema = new Schema(intrinsicTags);

export type Template = {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Globals?: { Function?: Record<string, unknown> };
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }>;
};

export async function readTemplate(path = 'template.yaml'): Promise<Template> {
  return load(await readFile(path, 'utf8'), { schema }) as Template;
}

export const noValue = Symbol('AWS::NoValue');

/** Evaluates the intrinsics a local run can: parameters (defaults or overrides), conditions, pseudo parameters. */
export function resolver(template: Template, overrides: Record<string, string>, pseudo: Record<string, string>) {
  const parameters: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(template.Parameters ?? {})) {
    const value = overrides[name] ?? p.Default;
    // CloudFormation hands a CommaDelimitedList to intrinsics as a list.
    parameters[name] = p.Type === 'CommaDelimitedList' && typeof value === 'string' ? value.split(',') : value;
  }
  const ref = (name: string): unknown => {
    if (name === 'AWS::NoValue') return noValue;
    if (name in pseudo) return pseudo[name];
    if (name in parameters) return parameters[name];
    // SAM's `!Ref Function.Alias` (AutoPublishAlias): the alias ARN, a qualified ARN as Lambda wants it.
    const alias = /^([A-Za-z0-9]+)\.Alias$/.exec(name);
    const fn = alias ? template.Resources[alias[1] as string] : undefined;
    if (alias && fn?.Type === 'AWS::Serverless::Function') {
      const props = fn.Properties ?? {};
      const functionName = props.FunctionName === undefined ? alias[1] : String(resolve(props.FunctionName));
      const region = pseudo['AWS::Region'] ?? 'us-east-1';
      const account = pseudo['AWS::AccountId'] ?? '123456789012';
      const partition = pseudo['AWS::Partition'] ?? 'aws';
      return `arn:${partition}:lambda:${region}:${account}:function:${functionName}:${String(props.AutoPublishAlias ?? 'live')}`;
    }
    return `\${${name}}`;
  };
  const condition = (name: string): boolean => Boolean(resolve(template.Conditions?.[name]));
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve).filter((v) => v !== noValue);
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = record[key];
      switch (key) {
        case 'Ref':
          return ref(String(arg));
        case 'Condition':
          return condition(String(arg));
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
          return text.replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
            if (name in vars) return String(resolve(vars[name]));
            const v = ref(name);
            return v === noValue ? '' : String(v);
          });
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, unknown, unknown];
          return condition(cond) ? resolve(yes) : resolve(no);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map(resolve);
          return a === b;
        }
        case 'Fn::Not':
          return !resolve((arg as unknown[])[0]);
        case 'Fn::And':
          return (arg as unknown[]).every((v) => resolve(v));
        case 'Fn::Or':
          return (arg as unknown[]).some((v) => resolve(v));
        case 'Fn::Join': {
          const [sep, list] = arg as [string, unknown[]];
          return (resolve(list) as unknown[]).join(sep);
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(resolve(text)).split(sep);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = resolve(list) as unknown[];
          const i = Number(resolve(index));
          // CloudFormation fails the deployment on an index out of range: so does a local run.
          if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length) {
            throw new Error(`Fn::Select: index ${i} is out of range`);
          }
          return items[i];
        }
        default:
          if (key.startsWith('Fn::')) return `(${key} not resolved locally)`;
      }
    }
    return Object.fromEntries(
      Object.entries(record)
        .map(([k, v]) => [k, resolve(v)] as const)
        .filter(([, v]) => v !== noValue),
    );
  };
  return { resolve, parameters };
}

export interface LocalFunction {
  readonly logicalId: string;
  readonly entryPoint: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly functionName: string;
  readonly environment: Record<string, string>;
}

/**
 * What `sam local invoke` would take from the template for one function. Its entry point comes from
 * `builds` (`readBuildTargets()`: the Makefile target `sam build` runs for the function); a function
 * without a target is an error.
 */
export function localFunction(
  template: Template,
  logicalId: string,
  options: {
    parameters?: Record<string, string>;
    region: string;
    stackName: string;
    /** LogicalId to function folder, from the Makefile (local/build-targets.ts). */
    builds: ReadonlyMap<string, string>;
  },
): LocalFunction {
  const resource = template.Resources[logicalId];
  const functions = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([id]) => id);
  if (resource?.Type !== 'AWS::Serverless::Function') {
    throw new Error(`${logicalId} is not a function in template.yaml (functions: ${functions.join(', ')})`);
  }
  const { resolve } = resolver(template, options.parameters ?? {}, {
    'AWS::Region': options.region,
    'AWS::AccountId': '123456789012',
    'AWS::StackName': options.stackName,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  });
  const globals = (resolve(template.Globals?.Function ?? {}) ?? {}) as Record<string, unknown>;
  const props = resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const folder = options.builds.get(logicalId);
  if (folder === undefined) throw new Error(`${logicalId} has no build-${logicalId} target in the Makefile`);
  const entryPoint = functionEntry(folder);
  const envOf = (o: Record<string, unknown>) =>
    ((o.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
      string,
      unknown
    >;
  const environment: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...envOf(globals), ...envOf(props) })) {
    if (v !== undefined && v !== null) environment[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return {
    logicalId,
    entryPoint,
    handler: String(props.Handler ?? globals.Handler ?? 'index.handler'),
    timeoutSeconds: Number(props.Timeout ?? globals.Timeout ?? 3),
    memoryMb: Number(props.MemorySize ?? globals.MemorySize ?? 128),
    functionName: String(props.FunctionName ?? logicalId),
    environment,
  };
}
