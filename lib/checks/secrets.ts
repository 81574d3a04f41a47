import { errorMessage } from '../core/analyze.ts';
import type { Measure, Observation } from '../core/types.ts';
import { isArn, ssmParameterName } from '../spec/arn.ts';
import { PlanError } from '../spec/errors.ts';
import { type Fields, join } from '../spec/fields.ts';
import { type DeploymentContext, fillPlaceholders } from '../spec/placeholders.ts';
import { isAccessDenied } from './observations.ts';
import { Redactor } from './redact.ts';

/**
 * A plan's `secrets` block names values that live in SSM Parameter Store (SecureString), and checks use
 * them as `{{secret:name}}`. The values are read per invocation, when the check first measures, and
 * scrubbed from everything the check reports: they never reach a verdict reason, a log line, an event
 * or carried state. The plan itself only ever holds the reference.
 */

/** Where a plan's secret lives. Only SSM Parameter Store (a SecureString, decrypted) for now. */
export interface SecretSource {
  /** A parameter name (`/greenlight/api-token`) or ARN. */
  readonly ssm: string;
}

/** Reads a secret's current value. Values are never cached beyond the invocation that asked. */
export interface SecretPort {
  read(source: SecretSource, signal: AbortSignal): Promise<string>;
}

export const secretPrefix = 'secret:';
export const secretNamePattern = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ssmNamePattern = /^\/?[A-Za-z0-9_.\-/]{1,1011}$/;
export const maxSecrets = 20;
const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Reads the plan's `secrets` block; problems name the field. */
export function readSecrets(value: unknown, path: string, f: Fields): Record<string, SecretSource> | undefined {
  const raw = f.object(value, path);
  if (!raw) return undefined;
  const before = f.issues.length;
  const entries = Object.entries(raw);
  if (entries.length > maxSecrets) f.problem(path, `must have at most ${maxSecrets} secrets`);
  const out: Record<string, SecretSource> = {};
  for (const [name, source] of entries.slice(0, maxSecrets)) {
    const at = join(path, name);
    if (!secretNamePattern.test(name)) {
      f.problem(at, 'secret names start with a letter and use letters, digits, "_" and "-" (at most 64)');
      continue;
    }
    const s = f.object(source, at, ['ssm']);
    if (!s) continue;
    const ssm = f.string(s.ssm, join(at, 'ssm'), { max: 2048 });
    if (ssm === undefined) continue;
    // A parameter ARN of any partition: the SDK's ARN parser reads it, the name inside is checked like a name.
    if (!ssmNamePattern.test(isArn(ssm) ? (ssmParameterName(ssm) ?? '') : ssm)) {
      f.problem(join(at, 'ssm'), 'expected an SSM parameter name such as /greenlight/api-token, or its ARN');
      continue;
    }
    out[name] = { ssm };
  }
  return f.issues.length > before ? undefined : out;
}

/** The secret names `value` uses as `{{secret:name}}`. */
export function secretNamesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(placeholder)) {
      const name = m[1] ?? '';
      if (name.startsWith(secretPrefix)) into.add(name.slice(secretPrefix.length));
    }
  } else if (Array.isArray(value)) {
    for (const v of value) secretNamesIn(v, into);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) secretNamesIn(v, into);
  }
  return into;
}

/** Reads each secret once per invocation (shared by the checks of that invocation); a failed read is tried again. */
export function secretReader(
  port: SecretPort | undefined,
): (name: string, source: SecretSource, signal: AbortSignal) => Promise<string> {
  const cache = new Map<string, Promise<string>>();
  return (name, source, signal) => {
    if (!port) {
      return Promise.reject(new Error(`the plan's secrets need the SSM port, which this function does not wire`));
    }
    let value = cache.get(name);
    if (!value) {
      value = port.read(source, signal);
      cache.set(name, value);
      value.catch(() => cache.delete(name));
    }
    return value;
  };
}

export interface GuardedCheck<Spec> {
  /** The check's spec as the plan wrote it (after `prepare`): `{{placeholders}}` and `{{secret:...}}` in it. */
  readonly template: Spec;
  /** This deployment's placeholder values. */
  readonly context: DeploymentContext;
  /** The plan's secrets this check uses. */
  readonly secrets?: Readonly<Record<string, SecretSource>> | undefined;
  readonly path: string;
  readonly create: (spec: Spec) => Measure;
  readonly read: ReturnType<typeof secretReader>;
}

/**
 * A secret shorter than this cannot be scrubbed from what green answers (`Redactor` leaves such short
 * values alone), so it is never sent: the measurement is an error naming the secret.
 */
export const minSecretLength = 4;

/**
 * The measure of a check whose reports are scrubbed of its credentials: the values of the secrets it
 * uses (read on its first measurement, then kept for the invocation) and the values of its credential
 * headers (Authorization, Cookie, X-Api-Key, ...). Placeholders and secrets are filled in one pass
 * from the template, so a deployment value is never read as a `{{secret:...}}`. A check without
 * secrets is created at once, so a bad field still fails before any measurement (a `PlanError`).
 */
export function redactedMeasure<Spec extends { headers?: Readonly<Record<string, string>> }>(
  check: GuardedCheck<Spec>,
): Measure {
  const spec = fillPlaceholders(check.template, check.context, check.path);
  const redactor = new Redactor().addHeaders(spec.headers).addUrlCredentials(spec);
  const names = [...secretNamesIn(check.template)];
  const guard =
    (measure: Measure): Measure =>
    async (signal, at) => {
      let o: Observation;
      try {
        o = await measure(signal, at);
      } catch (error) {
        o = { outcome: 'error', message: `check threw: ${errorMessage(error)}` };
      }
      return redactor.observation(o);
    };
  if (names.length === 0) return guard(check.create(spec));

  let made: Promise<Measure> | undefined;
  const make = async (signal: AbortSignal): Promise<Measure> => {
    const values = new Map<string, string>();
    for (const name of names) {
      const source = check.secrets?.[name];
      if (!source) throw new PlanError([`${check.path}: {{${secretPrefix}${name}}} is not in the plan's secrets`]);
      let value: string;
      try {
        value = await check.read(name, source, signal);
      } catch (error) {
        // The template's SecretParameters scopes ssm:GetParameter: a denial says where to allow it.
        const hint = isAccessDenied(error)
          ? " (greenlight's role may read only the parameters the stack's SecretParameters parameter names: allow it there)"
          : '';
        throw new Error(
          `cannot read secret ${name} (SSM ${source.ssm}): ${(error as Error)?.name ?? 'Error'}: ${errorMessage(error)}${hint}`,
          { cause: error },
        );
      }
      if (value.length < minSecretLength) {
        throw new Error(
          `secret ${name} (SSM ${source.ssm}) is shorter than ${minSecretLength} characters, too short to keep out of ` +
            'what green answers, so it is not sent: store a longer value',
        );
      }
      redactor.add(value);
      values.set(name, value);
    }
    // A header that carries a secret is a credential whatever its name (`X-Honeycomb-Team`): it never
    // follows a redirect to another origin (the http check drops `secretHeaders` there), nor does a
    // body that carries one (a 307 or 308 would re-send it: the http check refuses that hop).
    const secretHeaders = Object.entries(check.template.headers ?? {})
      .filter(([, v]) => secretNamesIn(v).size > 0)
      .map(([name]) => name);
    const secretBody = secretNamesIn((check.template as { body?: unknown }).body).size > 0;
    const filled = {
      ...fillPlaceholders(check.template, check.context, check.path, values),
      ...(secretHeaders.length > 0 ? { secretHeaders } : {}),
      ...(secretBody ? { secretBody } : {}),
    };
    // `Authorization: Bearer {{secret:token}}`: the whole filled value is scrubbed too, not only the token.
    redactor.addHeaders(filled.headers);
    // Credentials in a URL's user info go out as `Authorization: Basic base64(user:password)` (RFC 7617).
    redactor.addUrlCredentials(filled);
    return check.create(filled);
  };
  return guard(async (signal, at) => {
    made ??= make(signal);
    let measure: Measure;
    try {
      measure = await made;
    } catch (error) {
      made = undefined;
      return { outcome: 'error', message: errorMessage(error) };
    }
    return measure(signal, at);
  });
}
