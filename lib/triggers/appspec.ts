import { parseYaml } from '../plan/yaml.ts';
import { ecsTaskDefinitionName, isArn } from '../spec/arn.ts';

/**
 * What a CodeDeploy AppSpec says is being deployed: facts fixed when the deployment was created, which
 * traffic shifting never changes. ECS: the replacement's task definition
 * (`Resources[].TargetService.Properties.TaskDefinition`); Lambda: the function, alias and the version
 * traffic moves from and to (`Resources[].<name>.Properties.{Name, Alias, CurrentVersion, TargetVersion}`).
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html
 */
export interface AppSpecFacts {
  readonly ecsTaskDefinition?: string;
  readonly lambda?: {
    readonly name?: string;
    readonly alias?: string;
    readonly currentVersion?: string;
    readonly targetVersion?: string;
  };
}

/** An AppSpec is a few kilobytes; anything much larger is not read. */
const maxAppSpecChars = 256 * 1024;

/**
 * Reads the AppSpec text of a deployment (JSON or YAML). `undefined` when there is none or it cannot be
 * read: the facts it would give are then simply not known, and whoever needs them says so. YAML is read
 * by the plan reader (js-yaml, core schema, loaded on first use).
 */
export async function readAppSpec(content: string | undefined): Promise<AppSpecFacts | undefined> {
  if (content === undefined || content.length === 0 || content.length > maxAppSpecChars) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(content);
  } catch {
    try {
      doc = await parseYaml(content, 'AppSpec');
    } catch {
      return undefined;
    }
  }
  const resources = record(doc)?.Resources;
  if (!Array.isArray(resources)) return undefined;
  const ecs: string[] = [];
  const lambdas: NonNullable<AppSpecFacts['lambda']>[] = [];
  for (const entry of resources) {
    for (const resource of Object.values(record(entry) ?? {})) {
      const r = record(resource);
      const props = record(r?.Properties);
      if (!r || !props) continue;
      if (r.Type === 'AWS::ECS::Service') {
        const td = text(props.TaskDefinition);
        if (td !== undefined) ecs.push(td);
      } else if (r.Type === 'AWS::Lambda::Function') {
        lambdas.push(
          definedOnly({
            name: text(props.Name),
            alias: text(props.Alias),
            currentVersion: text(props.CurrentVersion),
            targetVersion: text(props.TargetVersion),
          }),
        );
      }
    }
  }
  // CodeDeploy deploys one resource per AppSpec; more than one is not a fact greenlight can rely on.
  return definedOnly({
    ecsTaskDefinition: ecs.length === 1 ? ecs[0] : undefined,
    lambda: lambdas.length === 1 ? lambdas[0] : undefined,
  });
}

/**
 * Whether a task definition as the AppSpec names it (`family:revision` or its ARN) is `arn`, the task
 * definition ECS reports. A family without a revision names no one task definition: `undefined`.
 */
export function sameTaskDefinition(appSpec: string, arn: string): boolean | undefined {
  const familyRevision = (v: string) =>
    isArn(v) ? ecsTaskDefinitionName(v) : /^[A-Za-z0-9_-]{1,255}:\d{1,10}$/.test(v) ? v : undefined;
  const wanted = familyRevision(appSpec);
  const actual = familyRevision(arn);
  if (wanted === undefined || actual === undefined) return undefined;
  return wanted === actual;
}

function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  // An unquoted `CurrentVersion: 3` is a YAML number.
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return undefined;
}

function definedOnly<T extends object>(v: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
