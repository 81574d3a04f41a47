// Only what ssm.ts sends, in a module of its own: a dynamic import of it defers the SDK's module
// evaluation to first use and still lets the bundler drop the rest of the SSM client.
export { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
