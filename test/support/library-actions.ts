/**
 * IAM actions that a library sends on behalf of a lib/aws file, which the IAM tests cannot find by
 * looking for `new XCommand(` in its source: ssm.ts reads parameters through Powertools' SSMProvider,
 * whose `get` sends GetParameter.
 */
export const libraryActions: Readonly<Record<string, readonly string[]>> = {
  'lib/aws/ssm.ts': ['ssm:GetParameter'],
};
