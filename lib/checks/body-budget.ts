/**
 * One budget of response-body memory per invocation, shared by every check of it, and the plan rule
 * that its worst case fits the function's memory. Bodies are buffered only when an expectation reads
 * them (bodyContains, bodyMatches, json); any other body is drained and discarded.
 *
 * Assumptions, stated once: the runtime, the AWS SDK and greenlight itself keep `runtimeHeadroomMiB`
 * of the function's memory; each buffered body byte costs up to `memoryPerBodyByte` bytes at peak
 * (the chunks as read, the joined Buffer, the decoded string at up to 2 bytes per character).
 */

const MiB = 1024 * 1024;

/** Memory (MiB) kept for the Node runtime, the SDK clients and greenlight itself, whatever the bodies. */
export const runtimeHeadroomMiB = 96;

/** Peak bytes of memory per buffered body byte: chunks, joined Buffer, decoded UTF-16 string. */
export const memoryPerBodyByte = 4;

/** `MemorySize` in template.yaml: assumed when AWS_LAMBDA_FUNCTION_MEMORY_SIZE is unset (CLI, tests). */
export const defaultFunctionMemoryMiB = 256;

/** A synchronous Lambda invocation's response is at most 6 MB, and the SDK buffers all of it. */
export const lambdaResponseMaxBytes = 6 * MiB;

/** Thrown while reading a body that would take the invocation past its body budget. */
export class BodyBudgetError extends Error {
  readonly code = 'BODY_BUDGET_EXCEEDED';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BodyBudgetError';
  }
}

/** One body's share of the budget. */
export interface BodyReservation {
  /** Takes `bytes` more; false (taking nothing) when the budget has not that much left. */
  take(bytes: number): boolean;
  /** Gives back everything taken; idempotent. */
  release(): void;
  /** Bytes held now. */
  readonly held: number;
  /** The error a read reports when `take` says no. */
  exceeded(): BodyBudgetError;
}

/** Body bytes in memory at once across every check of one invocation. */
export class BodyBudget {
  #used = 0;
  /** Body bytes that may be held at once. */
  readonly limitBytes: number;

  constructor(limitBytes: number) {
    this.limitBytes = limitBytes;
  }

  /** Bytes held now by all reservations. */
  get used(): number {
    return this.#used;
  }

  /** A reservation for one body, empty until it takes bytes. */
  open(): BodyReservation {
    let held = 0;
    return {
      take: (bytes) => {
        if (this.#used + bytes > this.limitBytes) return false;
        this.#used += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.#used -= held;
        held = 0;
      },
      get held() {
        return held;
      },
      exceeded: () =>
        new BodyBudgetError(
          `body not read: it would take this invocation past its body budget (${formatMiB(this.limitBytes)} for all checks at once, from the function's memory)`,
        ),
    };
  }
}

/**
 * The function's memory in MiB, from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (which Lambda sets, in MB);
 * `defaultFunctionMemoryMiB` when it is unset or not a positive integer.
 */
export function functionMemoryMiB(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  const n = text === undefined || !/^\d{1,6}$/.test(text) ? Number.NaN : Number(text);
  return Number.isInteger(n) && n > 0 ? n : defaultFunctionMemoryMiB;
}

/** Body bytes a function of `memoryMiB` can hold at once: what is left after the headroom, per byte's cost. */
export function bodyBudgetBytes(memoryMiB: number): number {
  return Math.max(0, Math.floor(((memoryMiB - runtimeHeadroomMiB) * MiB) / memoryPerBodyByte));
}

/** The budget of one invocation of this function. */
export function functionBodyBudget(env: NodeJS.ProcessEnv = process.env): BodyBudget {
  return new BodyBudget(bodyBudgetBytes(functionMemoryMiB(env)));
}

/** What `bodyMemoryIssues` needs of a check kind: the most body bytes one measurement holds at once. */
export interface BodyBufferingKind {
  bufferedBodyBytes?(spec: never): number;
}

/**
 * Plan validation: for each hook, whose checks run at the same time, the problem (`hooks.<hook>`) when
 * their bodies' worst case does not fit the function's memory. `kinds` is the check registry.
 */
export function bodyMemoryIssues(
  hooks: Readonly<Record<string, readonly string[]>>,
  checks: Readonly<Record<string, { readonly type: string; readonly spec: unknown }>>,
  kinds: Readonly<Record<string, BodyBufferingKind>>,
  memoryMiB: number = functionMemoryMiB(),
): { path: string; message: string }[] {
  const budget = bodyBudgetBytes(memoryMiB);
  const issues: { path: string; message: string }[] = [];
  for (const [hook, names] of Object.entries(hooks)) {
    const sizes: [string, number][] = [];
    for (const name of names) {
      const check = Object.hasOwn(checks, name) ? checks[name] : undefined;
      const kind = check && Object.hasOwn(kinds, check.type) ? kinds[check.type] : undefined;
      const bytes = kind?.bufferedBodyBytes?.((check as { spec: unknown }).spec as never) ?? 0;
      if (bytes > 0) sizes.push([name, bytes]);
    }
    const total = sizes.reduce((sum, [, b]) => sum + b, 0);
    if (total <= budget) continue;
    const needMiB = Math.ceil(runtimeHeadroomMiB + (total * memoryPerBodyByte) / MiB);
    const largest = [...sizes]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([n, b]) => `${n} ${formatMiB(b)}`)
      .join(', ');
    issues.push({
      path: `hooks.${hook}`,
      message:
        `its checks can hold ${formatMiB(total)} of response bodies at once (${largest}${sizes.length > 3 ? ', ...' : ''}), ` +
        `which needs about ${needMiB} MB of function memory (${memoryPerBodyByte} bytes per body byte plus ${runtimeHeadroomMiB} MB for the runtime), ` +
        `more than the function's ${memoryMiB} MB (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); lower maxBodyBytes, drop body expectations, or raise MemorySize`,
    });
  }
  return issues;
}

function formatMiB(bytes: number): string {
  const mib = bytes / MiB;
  return mib >= 1 ? `${Math.round(mib * 10) / 10} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
