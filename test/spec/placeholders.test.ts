import { describe, expect, it } from 'vitest';
import { PlanError } from '../../lib/spec/errors.ts';
import { Fields } from '../../lib/spec/fields.ts';
import { checkPlaceholders, fillPlaceholders } from '../../lib/spec/placeholders.ts';

describe('fillPlaceholders', () => {
  it('fills every placeholder in nested strings, lists and objects', () => {
    // Arrange
    const spec = {
      url: '{{testListenerUrl}}/health?region={{ region }}',
      headers: { 'x-deployment': '{{deploymentId}}' },
      tags: ['{{hook}}', 'fixed'],
      count: 3,
      flag: true,
      none: null,
    };

    // Act
    const filled = fillPlaceholders(
      spec,
      { testListenerUrl: 'http://green:8080', region: 'eu-west-1', deploymentId: 'd-123', hook: 'BeforeInstall' },
      'checks.a',
    );

    // Assert
    expect(filled).toEqual({
      url: 'http://green:8080/health?region=eu-west-1',
      headers: { 'x-deployment': 'd-123' },
      tags: ['BeforeInstall', 'fixed'],
      count: 3,
      flag: true,
      none: null,
    });
  });

  it('does not change the value it was given', () => {
    // Arrange
    const spec = { url: '{{testListenerUrl}}/health' };

    // Act
    fillPlaceholders(spec, { testListenerUrl: 'http://green' }, 'checks.a');

    // Assert
    expect(spec.url).toBe('{{testListenerUrl}}/health');
  });

  it('throws a PlanError naming each field whose placeholder has no value', () => {
    // Arrange
    const spec = { url: '{{testListenerUrl}}/health', headers: { 'x-id': '{{deploymentId}}' }, list: ['{{cluster}}'] };

    // Act
    const act = () => fillPlaceholders(spec, { deploymentId: '' }, 'checks.a');

    // Assert
    expect(act).toThrow(PlanError);
    try {
      act();
    } catch (error) {
      expect((error as PlanError).issues).toEqual([
        'checks.a.url: {{testListenerUrl}} has no value for this deployment',
        'checks.a.headers.x-id: {{deploymentId}} has no value for this deployment',
        'checks.a.list[0]: {{cluster}} has no value for this deployment',
      ]);
    }
  });
});

describe('fillPlaceholders with secrets: one pass', () => {
  const secrets = new Map([['db', 's3cr3t-db-pw']]);

  it('never expands a deployment value that holds {{secret:...}} into the secret', () => {
    // Arrange: a CodeDeploy application name may be any text, this one included.
    const spec = { headers: { 'x-app': '{{applicationName}}', authorization: 'Bearer {{secret:db}}' } };

    // Act
    const filled = fillPlaceholders(spec, { applicationName: '{{secret:db}}' }, 'checks.a', secrets);

    // Assert
    expect(filled.headers).toEqual({ 'x-app': '{{secret:db}}', authorization: 'Bearer s3cr3t-db-pw' });
  });

  it('never reads a deployment value as another placeholder', () => {
    // Arrange
    const spec = { url: '{{testListenerUrl}}/{{applicationName}}' };

    // Act
    const filled = fillPlaceholders(
      spec,
      { testListenerUrl: 'http://green:8080', applicationName: '{{testListenerUrl}}{{ secret:db }}' },
      'checks.a',
      secrets,
    );

    // Assert
    expect(filled.url).toBe('http://green:8080/{{testListenerUrl}}{{ secret:db }}');
  });

  it('leaves {{secret:...}} as it is when no secrets are given, and names one the map lacks', () => {
    // Arrange
    const spec = { body: '{{secret:db}} {{secret:other}}' };

    // Act
    const withoutSecrets = fillPlaceholders(spec, {}, 'checks.a');
    const act = () => fillPlaceholders(spec, {}, 'checks.a', secrets);

    // Assert
    expect(withoutSecrets).toEqual(spec);
    expect(act).toThrow("checks.a.body: {{secret:other}} is not in the plan's secrets");
  });

  it("takes only the context object's own values: {{toString}} is not a placeholder", () => {
    expect(() => fillPlaceholders({ url: '{{toString}}' }, {}, 'checks.a')).toThrow(
      'checks.a.url: {{toString}} has no value for this deployment',
    );
  });
});

describe('checkPlaceholders', () => {
  it('accepts known placeholders, with or without spaces inside the braces', () => {
    // Arrange
    const f = new Fields();

    // Act
    checkPlaceholders({ url: '{{ testListenerUrl }}/{{service}}', list: ['{{region}}'] }, 'checks.a', f);

    // Assert
    expect(f.issues).toEqual([]);
  });

  it('names the field of every unknown placeholder', () => {
    // Arrange
    const f = new Fields();

    // Act
    checkPlaceholders({ url: '{{nope}}', headers: { a: '{{TestListenerUrl}}' }, list: [1, '{{}}'] }, 'checks.a', f);

    // Assert
    expect(f.issues.map((i) => i.split(' (known:')[0])).toEqual([
      'checks.a.url: unknown placeholder {{nope}}',
      'checks.a.headers.a: unknown placeholder {{TestListenerUrl}}',
      'checks.a.list[1]: unknown placeholder {{}}',
    ]);
  });
});
