/**
 * Whether an AWS SDK error is an IAM denial: `AccessDeniedException` (JSON protocols: Lambda, SSM,
 * ECS, CloudWatch), `AccessDenied` (query protocols: ELBv2), `UnauthorizedOperation`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 */
export function isAccessDenied(error: unknown): boolean {
  const e = error as { name?: unknown; Code?: unknown } | null | undefined;
  const name = typeof e?.name === 'string' ? e.name : typeof e?.Code === 'string' ? e.Code : '';
  return /^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/.test(name);
}

/**
 * Rethrows `error`, its message completed with `hint` when it is an access denial: what the operator
 * sets to allow the call (the stack parameter that scopes the function's IAM policy). The error keeps
 * its class and name, so callers that tell errors apart by name still do.
 */
export function withDeniedHint(error: unknown, hint: string): never {
  if (isAccessDenied(error) && error instanceof Error && !error.message.includes(hint)) {
    error.message = `${error.message} (${hint})`;
  }
  throw error;
}
