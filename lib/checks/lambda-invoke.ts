import type { Observation } from '../core/types.ts';
import { type Fields, join } from '../spec/fields.ts';
import { functionBodyBudget, lambdaResponseMaxBytes } from './body-budget.ts';
import { type BodyExpect, bodyExpectFields, bodyMismatch, compileBodyExpect, readBodyExpect } from './body-expect.ts';
import type { CheckKind } from './kind.ts';
import { awsError, short, textOr } from './observations.ts';

export interface InvokeResult {
  readonly statusCode?: number;
  /** `Handled` or `Unhandled` when the function failed; absent when it did not. */
  readonly functionError?: string;
  /** The version that ran (for an alias, the version it points to). */
  readonly executedVersion?: string;
  /** The response payload as text (JSON for Node.js and Python functions). */
  readonly payload: string;
}

/** What the lambda-invoke check asks of AWS Lambda: one synchronous invocation. */
export interface LambdaInvokePort {
  invoke(
    input: { functionName: string; qualifier?: string; payload: string },
    signal?: AbortSignal,
  ): Promise<InvokeResult>;
}

export type LambdaExpect = BodyExpect;

export interface LambdaInvokeSpec {
  /** `{{functionName}}` by default. */
  readonly functionName: string;
  /** A version or alias; `{{targetVersion}}` (the new version) by default. */
  readonly qualifier: string;
  readonly payload: string;
  readonly expect: LambdaExpect;
}

const expectFields = bodyExpectFields;
const maxPayloadBytes = 256 * 1024;

/** The template's SmokeTestFunctions parameter scopes lambda:InvokeFunction: a denial says where to allow it. */
export const smokeTestDenied =
  "greenlight's role may invoke only the functions named in the stack's SmokeTestFunctions parameter: allow it there";

/** What the lambda-invoke check asks of AWS (lib/aws/lambda.ts implements it). */
export interface LambdaInvokePorts {
  readonly lambda: LambdaInvokePort;
}

export const lambdaInvokeCheck: CheckKind<LambdaInvokeSpec, LambdaInvokePorts> = {
  parse(raw, path, f) {
    const functionName = textOr(raw, 'functionName', path, f, '{{functionName}}', 256);
    const qualifier = textOr(raw, 'qualifier', path, f, '{{targetVersion}}', 128);
    let payload: string | undefined = '{}';
    if (raw.payload !== undefined) {
      payload = typeof raw.payload === 'string' ? raw.payload : JSON.stringify(raw.payload);
      if (payload === undefined || Buffer.byteLength(payload) > maxPayloadBytes) {
        payload = f.problem(join(path, 'payload'), 'expected a string or JSON value of at most 256 KiB');
      }
    }
    const expect = readExpect(raw.expect, join(path, 'expect'), f);
    if (functionName === undefined || qualifier === undefined || payload === undefined || !expect) return undefined;
    return { functionName, qualifier, payload, expect };
  },

  // The SDK reads the whole response, expectations or not.
  bufferedBodyBytes() {
    return lambdaResponseMaxBytes;
  },

  create(spec, deps, path) {
    const { lambda } = deps;
    compileBodyExpect(spec.expect, join(path, 'expect'));
    const budget = deps.bodyBudget ?? functionBodyBudget();
    const target = `${spec.functionName}:${spec.qualifier}`;
    return async (signal): Promise<Observation> => {
      const reservation = budget.open();
      try {
        // The response may be as large as Lambda allows: that much is held before the call is made.
        if (!reservation.take(lambdaResponseMaxBytes)) {
          return { outcome: 'error', message: `Invoke ${target}: ${reservation.exceeded().message}` };
        }
        let out: InvokeResult;
        try {
          out = await lambda.invoke(
            { functionName: spec.functionName, qualifier: spec.qualifier, payload: spec.payload },
            signal,
          );
        } catch (error) {
          return awsError(`Invoke ${target}`, error, signal, smokeTestDenied);
        }
        return judge(spec, target, out);
      } finally {
        reservation.release();
      }
    };
  },
};

/** The measurement of one answered invocation. */
function judge(spec: LambdaInvokeSpec, target: string, out: InvokeResult): Observation {
  const where = `Invoke ${target}${out.executedVersion ? ` (ran version ${out.executedVersion})` : ''}`;
  const fail = (why: string): Observation => ({
    outcome: 'fail',
    message: `${where}: ${why}`,
    value: out.functionError ?? 'ok',
  });
  if (out.functionError) return fail(`function error ${out.functionError}: ${describeError(out.payload)}`);
  // A numeric qualifier names the exact version that must have run (an alias may still point at blue).
  if (/^\d+$/.test(spec.qualifier) && out.executedVersion !== undefined && out.executedVersion !== spec.qualifier) {
    return fail(`ran version ${out.executedVersion}, expected ${spec.qualifier}`);
  }
  const e = spec.expect;
  const why = bodyMismatch(e, out.payload, 'response', 80);
  if (why !== undefined) return fail(why);
  return {
    outcome: 'pass',
    message: `${where}: no function error${Object.keys(e).length ? ', response as expected' : ''}`,
    value: 'ok',
  };
}

function readExpect(value: unknown, path: string, f: Fields): LambdaExpect | undefined {
  const raw = value === undefined ? {} : f.object(value, path, expectFields);
  if (!raw) return undefined;
  const out: { -readonly [K in keyof LambdaExpect]: LambdaExpect[K] } = {};
  Object.assign(out, readBodyExpect(raw, path, f, 'body.items[0].id'));
  return out;
}

/** `errorType: errorMessage` from a Lambda error payload, short; the stack trace is left out. */
function describeError(payload: string): string {
  try {
    const doc = JSON.parse(payload) as { errorType?: unknown; errorMessage?: unknown };
    const type = typeof doc.errorType === 'string' ? doc.errorType : 'Error';
    const message = typeof doc.errorMessage === 'string' ? doc.errorMessage : '';
    return short(message ? `${type}: ${message}` : type, 200);
  } catch {
    return short(payload, 200) || '(no payload)';
  }
}
