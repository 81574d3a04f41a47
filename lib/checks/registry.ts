import { httpCheck } from './http.ts';
import type { CheckKind } from './kind.ts';

/** Every check kind, by the `type` a plan gives it. A new kind is one file and one line here. */
export const checkKinds = {
  http: httpCheck,
  // biome-ignore lint/suspicious/noExplicitAny: kinds differ in their spec type; CheckSpec recovers each one.
} as const satisfies Record<string, CheckKind<any>>;

export type CheckKindName = keyof typeof checkKinds;

export type CheckSpec<K extends CheckKindName> = (typeof checkKinds)[K] extends CheckKind<infer S> ? S : never;

export function isCheckKind(value: unknown): value is CheckKindName {
  return typeof value === 'string' && Object.hasOwn(checkKinds, value);
}
