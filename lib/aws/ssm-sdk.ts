// What ssm.ts uses, in a module of its own: a dynamic import of it defers the SSM client's and
// Powertools Parameters' module evaluation to first use and still lets the bundler drop the rest.
export { GetParameterError } from '@aws-lambda-powertools/parameters/errors';
export { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
export { SSMClient } from '@aws-sdk/client-ssm';
