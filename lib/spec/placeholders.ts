import { PlanError } from './errors.ts';
import { clip, describe, type Fields, join } from './fields.ts';

/** The names a plan may use as `{{name}}`, filled from the deployment context of each invocation. */
export const placeholderNames = [
  // Every trigger
  'region',
  'hook',
  // CodeDeploy
  'deploymentId',
  'applicationName',
  'deploymentGroupName',
  // Load-balanced targets (CodeDeploy ECS, ECS native)
  'testListenerUrl',
  'prodListenerUrl',
  'greenTargetGroup',
  'blueTargetGroup',
  'greenTargetGroupArn',
  'blueTargetGroupArn',
  // ECS
  'cluster',
  'service',
  'greenTaskSet',
  'blueTaskSet',
  'serviceArn',
  'targetServiceRevisionArn',
  'serviceDeploymentArn',
  'lifecycleStage',
  // ECS native: the target revision's share of test and production traffic, in percent
  'testTrafficWeight',
  'productionTrafficWeight',
  // ECS (native and CodeDeploy): the task definition being deployed and its containers' images. With
  // several containers, name one: {{greenImage.<container>}}, {{greenImageTag.<container>}}.
  'greenTaskDefinitionArn',
  'greenTaskDefinition',
  'greenImage',
  'greenImageTag',
  // Lambda
  'functionName',
  'alias',
  'currentVersion',
  'targetVersion',
  // Proton
  'protonServiceName',
] as const;

export type PlaceholderName = (typeof placeholderNames)[number];

/** What is known about the deployment being validated. A missing value is a clear error when a plan needs it. */
export type DeploymentContext = { [K in PlaceholderName]?: string | undefined } & {
  /** Container name to image, of the green task definition: `{{greenImage.<container>}}`, `{{greenImageTag.<container>}}`. */
  readonly greenContainerImages?: Readonly<Record<string, string>> | undefined;
};

/** The placeholders that name one container: `greenImage.web`, `greenImageTag.web`. */
const containerPlaceholder = /^(greenImage|greenImageTag)\.([A-Za-z0-9_-]{1,255})$/;

/** `{ kind, container }` for a per-container placeholder (`greenImage.web`), else undefined. */
export function containerPlaceholderOf(
  name: string,
): { readonly kind: 'greenImage' | 'greenImageTag'; readonly container: string } | undefined {
  const m = containerPlaceholder.exec(name);
  return m ? { kind: m[1] as 'greenImage' | 'greenImageTag', container: m[2] as string } : undefined;
}

/**
 * The tag of a container image reference (`repo:tag`, `registry:5000/repo:tag@sha256:...`), or undefined
 * when it has none (`repo`, `repo@sha256:...`): a digest is not a tag, and no tag is not `latest` here.
 */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0] ?? '';
  const last = name.slice(name.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon > 0 && colon < last.length - 1 ? last.slice(colon + 1) : undefined;
}

const pattern = /\{\{\s*([^{}]*?)\s*\}\}/g;
const known = new Set<string>(placeholderNames);

/** `{{secret:name}}`: a value of the plan's `secrets`, filled only when the check measures (never here). */
const secretPrefix = 'secret:';

/**
 * Reports every `{{name}}` in `value` that is not a known placeholder, and every `{{secret:name}}`
 * whose name is not in `secrets` (the names the plan's `secrets` block declares).
 */
export function checkPlaceholders(
  value: unknown,
  path: string,
  f: Fields,
  secrets: ReadonlySet<string> = new Set(),
): void {
  if (typeof value === 'string') {
    for (const match of value.matchAll(pattern)) {
      const name = match[1] ?? '';
      if (name.startsWith(secretPrefix)) {
        const secret = name.slice(secretPrefix.length);
        if (!secrets.has(secret)) {
          f.problem(
            path,
            `unknown secret {{${clip(name)}}} (the plan's secrets: ${secrets.size ? [...secrets].join(', ') : 'none'})`,
          );
        }
      } else if (!known.has(name) && !containerPlaceholderOf(name) && !name.startsWith('var.')) {
        // `{{var.name}}` left here is a variable the plan does not define: composePlan reports it.
        f.problem(path, `unknown placeholder ${shownPlaceholder(name)} (known: ${placeholderNames.join(', ')})`);
      }
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkPlaceholders(v, join(path, i), f, secrets);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkPlaceholders(v, join(path, k), f, secrets);
  }
}

/**
 * An unknown placeholder as a problem shows it: as written when it looks like a name (`{{TestListenerUrl}}`,
 * the usual typo), else by its shape only. Placeholders sit in URLs, headers and bodies, where a value
 * pasted between the braces may be a credential (`Bearer {{sk-live-...}}`).
 */
function shownPlaceholder(name: string): string {
  return /^(?:[A-Za-z][A-Za-z0-9]{0,39})?$/.test(name) ? `{{${name}}}` : `{{…}} (${describe(name)})`;
}

/**
 * A copy of `value` with every `{{name}}` replaced from `context` and, when `secrets` is given, every
 * `{{secret:name}}` replaced by that secret's value (else left as it is). One pass: a substituted value
 * is never read again, so a deployment value that holds `{{secret:db}}` or `{{testListenerUrl}}` (a
 * CodeDeploy application name can) stays that text and is never expanded into a secret.
 * Throws a `PlanError` naming each field whose placeholder has no value in this deployment.
 */
export function fillPlaceholders<T>(
  value: T,
  context: DeploymentContext,
  path: string,
  secrets?: ReadonlyMap<string, string>,
): T {
  const issues: string[] = [];
  const walk = (v: unknown, at: string): unknown => {
    if (typeof v === 'string') {
      return v.replace(pattern, (whole, name: string) => {
        if (name.startsWith(secretPrefix)) {
          if (!secrets) return whole;
          const secret = secrets.get(name.slice(secretPrefix.length));
          if (secret === undefined) issues.push(`${at}: {{${name}}} is not in the plan's secrets`);
          return secret ?? whole;
        }
        // Own properties only: `{{toString}}` is not a placeholder.
        const filled = Object.hasOwn(context, name) ? context[name as PlaceholderName] : containerValue(context, name);
        if (filled === undefined || filled === '') {
          issues.push(`${at}: {{${name}}} has no value for this deployment`);
          return whole;
        }
        return filled;
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, join(at, i)));
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, walk(item, join(at, k))]));
    }
    return v;
  };
  const filled = walk(value, path) as T;
  if (issues.length > 0) throw new PlanError(issues);
  return filled;
}

/** `{{greenImage.<container>}}` and `{{greenImageTag.<container>}}` from the green task definition's containers. */
function containerValue(context: DeploymentContext, name: string): string | undefined {
  const ref = containerPlaceholderOf(name);
  const images = context.greenContainerImages;
  if (!ref || !images || !Object.hasOwn(images, ref.container)) return undefined;
  const image = images[ref.container] as string;
  return ref.kind === 'greenImage' ? image : imageTag(image);
}
