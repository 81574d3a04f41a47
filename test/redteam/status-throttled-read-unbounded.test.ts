import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EcsFake, startEcsFake } from '../../local/fakes/ecs.ts';
import { bin, run } from '../cli/run-cli.ts';

// Red team (throttling: a throttled call retries up to 15 minutes when it has no abort signal). `greenlight
// status --cluster --service` read the service's deployments through the ECS client with no signal: while
// ECS throttled ListServiceDeployments, the command hung for up to 15 minutes per read, and --timeout and a
// first Ctrl-C (which only stopped the watch's sleep) could not end it. Each read now has its own bound.

let ecs: EcsFake;

beforeAll(async () => {
  ecs = await startEcsFake();
});

afterAll(async () => {
  await ecs?.close();
});

function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(AWS_|GREENLIGHT_)/.test(k)) env[k] = v;
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'status-test',
    AWS_SECRET_ACCESS_KEY: 'status-test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_ECS: ecs.url,
  };
}

describe('greenlight status --cluster --service while ECS throttles every read', () => {
  it('ends within its read bound, saying the read was throttled, not after the SDK retried for 15 minutes', async () => {
    ecs.failNext(
      'ListServiceDeployments',
      { type: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
      Infinity,
    );
    try {
      const out = await run(process.execPath, [bin, 'status', '--cluster', 'c', '--service', 's'], {
        env: environment(),
        timeoutMs: 60_000,
      });
      expect(out.code).not.toBeNull();
      expect(out.ms).toBeLessThan(45_000);
      expect(out.stdout).toMatch(
        /ECS service deployments could not be read: .*throttled by AWS \(ECS ListServiceDeployments\)/,
      );
    } finally {
      ecs.clearFaults();
    }
  }, 70_000);
});
