import { describe, expect, it } from 'vitest';
import { InputTransformError, transformInput } from './input-transformer.ts';

/** The test stand-in for EventBridge's input transformer gives the outputs EventBridge's user guide documents. */

// The user guide's example event (eb-transform-target-input).
const event = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};
const InputPathsMap = { instance: '$.detail.instance-id', state: '$.detail.state', resource: '$.resources[0]' };
const rule = { name: 'example', arn: 'arn:aws:events:us-east-2:123456789012:rule/example' };

describe('input transformer (as documented)', () => {
  it('passes a string template on as written, quotes included, values unescaped', () => {
    expect(transformInput({ InputPathsMap, InputTemplate: '"instance <instance> is in <state>"' }, event, rule)).toBe(
      '"instance i-0123456789 is in RUNNING"',
    );
    expect(transformInput({ InputTemplate: '"<aws.events.rule-name> triggered"' }, event, rule)).toBe(
      '"example triggered"',
    );
  });

  it('gives JSON values outside quotes and raw text inside them in a JSON template, minified', () => {
    const out = transformInput(
      {
        InputPathsMap,
        InputTemplate:
          '{\n "instance" : <instance>,\n "state": [ 9, <state>, true ],\n "instanceStatus": "instance \\"<instance>\\" is in <state>",\n "on": "<resource>",\n "ruleArn": <aws.events.rule-arn>\n}',
      },
      event,
      rule,
    );

    expect(out).toBe(
      '{"instance":"i-0123456789","state":[9,"RUNNING",true],"instanceStatus":"instance \\"i-0123456789\\" is in RUNNING","on":"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111","ruleArn":"arn:aws:events:us-east-2:123456789012:rule/example"}',
    );
  });

  it('leaves a variable whose path the event lacks out of the output', () => {
    expect(transformInput({ InputPathsMap: { nope: '$.detail.nope' }, InputTemplate: '"[<nope>]"' }, event, rule)).toBe(
      '"[]"',
    );
  });

  it('fails when a JSON template gives invalid JSON, as an unescaped quote in a value would', () => {
    const quoted = { ...event, detail: { ...event.detail, state: 'say "hi"' } };

    expect(() => transformInput({ InputPathsMap, InputTemplate: '{"s": "<state>"}' }, quoted, rule)).toThrow(
      InputTransformError,
    );
  });
});
