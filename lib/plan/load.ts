import { PlanError } from '../spec/errors.ts';
import { type Plan, parsePlanText } from './schema.ts';

/** Where the plan comes from: exactly one of these, from GREENLIGHT_PLAN, GREENLIGHT_PLAN_FILE, GREENLIGHT_PLAN_PARAMETER. */
export interface PlanSource {
  readonly inline?: string;
  readonly file?: string;
  readonly parameter?: string;
}

export interface PlanReaders {
  readFile(path: string): Promise<string>;
  readParameter(name: string, signal?: AbortSignal): Promise<string>;
}

export function planSourceFromEnv(env: NodeJS.ProcessEnv): PlanSource {
  const source: { -readonly [K in keyof PlanSource]: PlanSource[K] } = {};
  if (env.GREENLIGHT_PLAN?.trim()) source.inline = env.GREENLIGHT_PLAN;
  if (env.GREENLIGHT_PLAN_FILE?.trim()) source.file = env.GREENLIGHT_PLAN_FILE.trim();
  if (env.GREENLIGHT_PLAN_PARAMETER?.trim()) source.parameter = env.GREENLIGHT_PLAN_PARAMETER.trim();
  return source;
}

const cache = new Map<string, { plan: Plan; text: string }>();

/**
 * Loads and validates the plan. Inline and file plans are cached for the life of the container. An SSM
 * plan is asked of `readParameter` every time (which caches it for as long as it chooses: a minute in
 * the functions) and parsed again only when its text changed.
 */
export async function loadPlan(source: PlanSource, readers: PlanReaders, signal?: AbortSignal): Promise<Plan> {
  const given = (['inline', 'file', 'parameter'] as const).filter((k) => source[k] !== undefined);
  if (given.length === 0) {
    throw new PlanError([
      'no plan configured: set GREENLIGHT_PLAN (inline YAML or JSON), GREENLIGHT_PLAN_FILE or GREENLIGHT_PLAN_PARAMETER',
    ]);
  }
  if (given.length > 1) {
    throw new PlanError([`more than one plan configured (${given.map(envName).join(', ')}): set exactly one`]);
  }
  const kind = given[0] as 'inline' | 'file' | 'parameter';
  const key = `${kind}:${source[kind]}`;
  const hit = cache.get(key);
  if (hit && kind !== 'parameter') return hit.plan;

  let text: string;
  let name: string;
  if (kind === 'inline') {
    text = source.inline as string;
    name = 'GREENLIGHT_PLAN';
  } else if (kind === 'file') {
    name = source.file as string;
    try {
      text = await readers.readFile(name);
    } catch (error) {
      throw new PlanError(
        [
          `GREENLIGHT_PLAN_FILE: cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        ],
        { cause: error },
      );
    }
  } else {
    name = source.parameter as string;
    try {
      text = await readers.readParameter(name, signal);
    } catch (error) {
      throw new PlanError(
        [
          `GREENLIGHT_PLAN_PARAMETER: cannot read SSM parameter ${name}: ${(error as Error).name}: ${(error as Error).message}${
            // The template grants ssm:GetParameter on the PlanParameterName parameter only.
            /^AccessDenied(Exception)?$/.test((error as Error).name)
              ? " (greenlight's role may read only the parameter the stack's PlanParameterName parameter names)"
              : ''
          }`,
        ],
        { cause: error },
      );
    }
  }
  if (hit?.text === text) return hit.plan;
  const plan = await parsePlanText(text, name);
  cache.set(key, { plan, text });
  return plan;
}

/** Forgets cached plans (tests). */
export function clearPlanCache(): void {
  cache.clear();
}

function envName(kind: 'inline' | 'file' | 'parameter'): string {
  return { inline: 'GREENLIGHT_PLAN', file: 'GREENLIGHT_PLAN_FILE', parameter: 'GREENLIGHT_PLAN_PARAMETER' }[kind];
}
