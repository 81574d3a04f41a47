/**
 * IAM actions that a library sends on behalf of a lib/aws file, which the IAM tests cannot find by
 * looking for `new XCommand(` in its source: ssm.ts reads parameters through Powertools' SSMProvider,
 * whose `get` sends GetParameter and `getParametersByName` GetParameters; sigv4.ts signs the prometheus check's own HTTP requests to an Amazon
 * Managed Service for Prometheus workspace (`/api/v1/query` and `/api/v1/query_range`), which AWS
 * authorizes as QueryMetrics.
 */
export const libraryActions: Readonly<Record<string, readonly string[]>> = {
  'lib/aws/ssm.ts': ['ssm:GetParameter', 'ssm:GetParameters'],
  'lib/aws/sigv4.ts': ['aps:QueryMetrics'],
};
