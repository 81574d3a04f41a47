/**
 * The plan format, field by field: the one definition that plan validation's structural pass
 * (lib/plan/schema.ts) and the JSON Schema (`greenlight schema`, schema/plan.schema.json) are both made
 * from. A field added here is known to both; a field a reader reads that is not here is an unknown field.
 * The order of fields is the order problems list them in (`unknown field (expected one of: ...)`).
 */
import { idPattern } from '../checks/cloudwatch-metric.ts';
import { sitePattern } from '../checks/datadog.ts';
import { addressRanges, probeSchemes } from '../checks/egress.ts';
import { methods } from '../checks/http.ts';
import { comparisons, reducers } from '../checks/metric-threshold.ts';
import { noDataOutcomes } from '../checks/observations.ts';
import { regionPattern } from '../checks/prometheus.ts';
import { secretOnly } from '../checks/provider-http.ts';
import { type CheckKindName, checkKinds } from '../checks/registry.ts';
import { maxSecrets, secretNamePattern } from '../checks/secrets.ts';
import { maxCaBytes } from '../checks/tls.ts';
import { echo } from '../spec/fields.ts';
import { knownHooks } from '../spec/hooks.ts';
import {
  anyOf,
  bool,
  doc,
  duration,
  headers,
  int,
  json,
  list,
  map,
  num,
  type ObjectShape,
  obj,
  oneOf,
  type Shape,
  str,
  type TaggedShape,
} from './shape.ts';

const hour = 3_600_000;
const day = 24 * hour;
const MiB = 1024 * 1024;

export const maxChecks = 50;
export const checkNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** When and how a check is measured; the plan's `defaults` and every check take them. */
export const policyShapes = {
  initialDelay: doc(duration(hour), 'Wait before the first measurement (default 0s).'),
  count: doc(
    int(1, 10_000, { belowMin: ': a check passes only on a measurement that passed' }),
    'Measurements to take (default 1); errors are retried and do not count.',
  ),
  interval: doc(duration(hour), 'From the start of one measurement to the next (default 5s).'),
  timeout: doc(duration(900_000), 'Per measurement, more than 0 (default 5s); a timeout is an error.'),
  failureLimit: doc(int(0, 10_000), 'Failed measurements tolerated (default 0); one more fails the check.'),
  consecutiveErrorLimit: doc(
    int(0, 10_000),
    'Errors in a row retried (default 0); one more ends the check in error. An error never counts as a pass.',
  ),
  consecutiveSuccesses: doc(int(0, 10_000), 'Pass as soon as this many pass in a row (default 0: off); at most count.'),
  inconclusiveLimit: doc(int(0, 10_000), 'Inconclusive measurements tolerated (default 0).'),
  dryRun: doc(bool(), 'Measured and reported, never deciding (default false).'),
} as const satisfies Record<string, Shape>;

/** The fields every check has besides its kind's. */
export const commonCheckShapes = {
  type: doc(oneOf(Object.keys(checkKinds)), 'The check kind.'),
  description: doc(str(), 'What the check is for, shown in reports.'),
  ...policyShapes,
} as const satisfies Record<string, Shape>;

const tls = doc(
  obj({
    ca: doc(
      str({ max: maxCaBytes }),
      'PEM certificates to trust instead of the system CAs, or one {{secret:name}} reference.',
    ),
    serverName: doc(str({ max: 253 }), 'The DNS name sent as SNI and verified in the certificate.'),
  }),
  'A private CA or another name to verify, for https URLs; give ca, serverName or both. Verification is never turned off.',
);

const statusText = 'an integer 100-599, a class such as "2xx", or a range such as "200-299"';
const statusItem = anyOf([int(100, 599), str({ pattern: /^(?:[1-5][xX][xX]|\d{3}\s*-\s*\d{3}|\d{3})$/ })], {
  text: statusText,
});

const bodyExpect = {
  bodyContains: doc(str({ max: 4096 }), 'Text the body must contain.'),
  bodyMatches: doc(
    str({ max: 1000 }),
    'A regular expression (RE2 syntax: no backreferences or lookaround) the body must match.',
  ),
  json: doc(
    map(json()),
    'Field paths (data.items[0].id) to the value each must equal in the JSON body, or a range {min, max}.',
  ),
} as const satisfies Record<string, Shape>;

const httpExpect = obj({
  status: doc(
    anyOf([statusItem, list(statusItem, undefined, { min: 1, minText: 'must list at least one status' })], {
      text: statusText,
    }),
    'Accepted status codes (default 2xx): 200, "2xx", "200-299" or a list of them.',
  ),
  ...bodyExpect,
  headers: doc(headers(50), 'Response headers (case-insensitive names) to the exact value each must have.'),
  maxLatency: doc(duration(900_000), 'The longest the response may take.'),
});

const httpProbe = {
  method: doc(oneOf(methods), 'The HTTP method (default GET).'),
  headers: doc(headers(50), 'Request headers; values may use {{placeholders}} and {{secret:name}}.'),
  body: doc(json(), 'The request body: a string, or a JSON value sent as JSON (at most 64 KiB).'),
  expect: doc(httpExpect, 'What the response must be.'),
  followRedirects: doc(
    anyOf([bool(), int(0, 10)], { report: 1 }),
    'Redirects to follow: true (5), false (0, the default) or 0-10.',
  ),
  maxBodyBytes: doc(int(0, 10 * MiB), 'Response bytes read at most (default 1 MiB).'),
  tls,
} as const satisfies Record<string, Shape>;

const green = {
  cluster: doc(str({ max: 2048 }), 'The ECS cluster (default {{cluster}}).'),
  service: doc(str({ max: 2048 }), 'The ECS service (default {{service}}).'),
  taskSet: doc(str({ max: 2048 }), 'The green task set, CodeDeploy (default {{greenTaskSet}}).'),
  serviceRevision: doc(
    str({ max: 2048 }),
    'The green service revision, ECS native (usually {{targetServiceRevisionArn}}); not with taskSet.',
  ),
} as const satisfies Record<string, Shape>;

const threshold = {
  comparison: doc(oneOf(comparisons), 'How the value compares with threshold to fail (default GreaterThanThreshold).'),
  threshold: doc(num(), 'The threshold.'),
  reduce: doc(oneOf(reducers), "How the window's datapoints become one value (default: the worst for comparison)."),
  noData: doc(oneOf(noDataOutcomes), 'What no datapoints mean (default fail).'),
} as const satisfies Record<string, Shape>;

const secretRef = (what: string) =>
  str({ pattern: secretOnly, patternText: `a {{secret:name}} reference (never the ${what} itself)` });

const providerCommon = {
  maxBodyBytes: doc(int(1024, 10 * MiB), 'Response bytes read at most (default 1 MiB).'),
  tls,
} as const satisfies Record<string, Shape>;

/** Each check kind's own fields, in the order problems list them. */
const kindShapes: { readonly [K in CheckKindName]: ObjectShape } = {
  http: obj(
    {
      url: doc(str({ max: 2048 }), 'The URL to probe, such as "{{testListenerUrl}}/health".'),
      ...httpProbe,
    },
    ['url'],
    { description: 'An HTTP probe: status, body, JSON fields, headers, latency.' },
  ),
  'ecs-service': obj(
    {
      ...green,
      maxPending: doc(int(0, 10_000), 'Pending tasks tolerated (default 0).'),
      minRunning: doc(int(0, 10_000), 'Running tasks needed (default 1).'),
    },
    [],
    { description: "The green task set's or service revision's task counts." },
  ),
  'ecs-tasks': obj(
    {
      ...green,
      minTasks: doc(int(0, 10_000), 'Running tasks needed (default 1).'),
      allowUnknownHealth: doc(bool(), 'Count tasks whose health is UNKNOWN as healthy (default false).'),
      allowExitCodes: doc(
        list(int(0, 255), 20),
        'Exit codes of stopped essential containers that are not failures (0 always is).',
      ),
      window: doc(duration(day), 'How far back stopped tasks count.'),
    },
    [],
    { description: "Green's tasks: running, healthy, none stopped with a failure." },
  ),
  'target-health': obj(
    {
      targetGroup: doc(str({ max: 2048 }), 'The target group (default {{greenTargetGroup}}).'),
      minHealthy: doc(int(0, 10_000), 'Healthy targets needed (default 1).'),
    },
    [],
    { description: "The load balancer's target health for green." },
  ),
  'cloudwatch-alarms': obj(
    {
      alarms: doc(
        list(str({ max: 255 }), 100, { min: 1, minText: 'must list at least one alarm name' }),
        'Alarm names (not with alarmPrefix).',
      ),
      alarmPrefix: doc(str({ max: 255 }), 'Every alarm whose name starts so (not with alarms).'),
      insufficientData: doc(oneOf(noDataOutcomes), 'What INSUFFICIENT_DATA means (default fail).'),
    },
    [],
    { description: 'CloudWatch alarms that must not be in ALARM; give alarms or alarmPrefix.' },
  ),
  'cloudwatch-metric': obj(
    {
      metrics: doc(
        map(
          obj(
            {
              namespace: str({ max: 255 }),
              name: str({ max: 255 }),
              dimensions: map(str({ min: 0 }), { max: 30 }),
              stat: doc(str({ max: 64 }), 'Sum, Average, p99, TM(10%:90%), ...'),
            },
            ['namespace', 'name', 'stat'],
          ),
          {
            min: 1,
            max: 10,
            countText: 'must name 1 to 10 metrics',
            keys: {
              pattern: idPattern,
              message: 'metric ids start with a lowercase letter and use letters, digits and _',
              skipBadKeys: false,
            },
          },
        ),
        'Metrics by id (1 to 10).',
      ),
      expression: doc(str({ max: 2048 }), 'A metric math expression over the ids (needed with more than one metric).'),
      window: doc(duration(day), 'How far back to read (default 5m, at least 1m).'),
      period: doc(duration(day), '1s, 5s, 10s, 20s, 30s or a multiple of 1m, at most window.'),
      ...threshold,
    },
    ['metrics', 'threshold'],
    { description: 'A CloudWatch metric (or metric math) against a threshold.' },
  ),
  'lambda-invoke': obj(
    {
      functionName: doc(str({ max: 256 }), 'The function (default {{functionName}}).'),
      qualifier: doc(str({ max: 128 }), 'The version or alias (default {{targetVersion}}).'),
      payload: doc(json(), 'The event: a string, or a JSON value sent as JSON (at most 256 KiB).'),
      expect: doc(obj(bodyExpect), 'What the response must hold.'),
    },
    [],
    { description: 'A smoke invocation of the new Lambda version.' },
  ),
  compare: obj(
    {
      blue: doc(str({ max: 2048 }), 'Base URL of blue (default {{prodListenerUrl}}).'),
      green: doc(str({ max: 2048 }), 'Base URL of green (default {{testListenerUrl}}).'),
      path: doc(str({ min: 0, max: 2048 }), 'Appended to both base URLs; starts with /.'),
      ...httpProbe,
      samples: doc(int(1, 200), 'Probes of each side per measurement (default 10).'),
      maxErrorRateIncrease: doc(num({ min: 0, max: 1 }), "Green's error rate above blue's tolerated (default 0.05)."),
      maxLatencyRatio: doc(num({ min: 1, max: 1000 }), "Green's p95 latency over blue's tolerated (default 1.5)."),
      minLatencyIncrease: doc(
        duration(600_000),
        'A latency increase smaller than this is no regression (default 25ms).',
      ),
      probeTimeout: doc(duration(600_000), "Each probe's time limit (default 2s)."),
      judge: doc(
        anyOf(
          [
            oneOf([true]),
            obj({
              alpha: num({ min: 1e-6, max: 0.5 }),
              minLatencyShift: duration(600_000),
              minLatencyRatio: num({ min: 1, max: 1000 }),
              minErrorRateIncrease: num({ min: 0, max: 1 }),
              minSamples: int(2, 1000),
            }),
          ],
          { report: 1 },
        ),
        'The statistical judge instead of the margins: true for its defaults, or its settings.',
      ),
    },
    [],
    { description: 'Green against blue: error rate and latency, probed in pairs.' },
  ),
  prometheus: obj(
    {
      url: doc(str({ max: 2048 }), "The Prometheus server's base URL."),
      query: doc(str({ max: 4096 }), 'A PromQL query (no secrets: it is sent in the URL).'),
      window: doc(duration(7 * day), 'A range query over this window (at least 1s); an instant query without.'),
      step: doc(duration(day), 'The range query step (needs window).'),
      headers: doc(headers(20), 'Request headers.'),
      bearerToken: doc(secretRef('token'), 'A {{secret:name}} reference.'),
      basicAuth: obj(
        {
          username: str({ max: 256 }),
          password: doc(secretRef('password'), 'A {{secret:name}} reference.'),
        },
        ['username', 'password'],
      ),
      sigv4: doc(
        obj(
          {
            region: str({ max: 32, pattern: regionPattern, patternText: 'an AWS Region such as us-east-1' }),
            service: oneOf(['aps']),
          },
          ['region'],
        ),
        'Sign requests for Amazon Managed Service for Prometheus.',
      ),
      ...providerCommon,
      ...threshold,
    },
    ['url', 'query', 'threshold'],
    { description: 'A PromQL query against a threshold; one of bearerToken, basicAuth and sigv4 at most.' },
  ),
  datadog: obj(
    {
      query: doc(str({ max: 4096 }), 'A Datadog metrics query (no secrets: it is sent in the URL).'),
      site: doc(
        str({
          max: 64,
          pattern: sitePattern,
          patternText: 'a Datadog site such as datadoghq.com, datadoghq.eu or us3.datadoghq.com',
        }),
        'The Datadog site (default datadoghq.com); not with url.',
      ),
      url: doc(str({ max: 2048 }), "The API's base URL instead of site."),
      window: doc(duration(7 * day), 'How far back to read (default 5m, at least 1s).'),
      apiKey: doc(secretRef('key'), 'A {{secret:name}} reference.'),
      applicationKey: doc(secretRef('key'), 'A {{secret:name}} reference.'),
      ...providerCommon,
      ...threshold,
    },
    ['query', 'apiKey', 'applicationKey', 'threshold'],
    { description: 'A Datadog metrics query against a threshold.' },
  ),
};

/** A check: its `type` chooses its fields. */
export const checkShape: TaggedShape = {
  kind: 'tagged',
  tag: 'type',
  common: commonCheckShapes,
  variants: Object.fromEntries(Object.keys(checkKinds).map((k) => [k, kindShapes[k as CheckKindName]])),
  unknownTag: (type) =>
    `unknown check type ${type === undefined ? '(missing)' : echo(type)} (expected one of: ${Object.keys(checkKinds).join(', ')})`,
  description: 'A check: type chooses its fields.',
};

/** The field names a check of `type` may have, common ones first. */
export function checkFieldNames(type: CheckKindName): string[] {
  return [...Object.keys(commonCheckShapes), ...Object.keys(kindShapes[type].fields)];
}

/** The whole plan. */
export const planShape: ObjectShape = obj(
  {
    version: doc(oneOf([1], { text: '1' }), 'Always 1.'),
    description: doc(str(), 'What the plan is for.'),
    include: doc(
      list(
        str({
          max: 256,
          pattern: /^(?!\.\.?$)[A-Za-z0-9_.-]{1,256}$/,
          patternText: 'a name of letters, digits, "_", "." and "-" (not "." or "..")',
        }),
        10,
      ),
      'Shared check sets, by name, read from <GREENLIGHT_PLAN_PREFIX>shared/<name> (see docs/plan.md, routing).',
    ),
    variables: doc(
      map(
        anyOf([
          str({
            max: 1024,
            pattern: /^(?![\s\S]*\{\{)[\s\S]*$/,
            patternText: 'plain text, not placeholders ("{{")',
          }),
          num(),
          bool(),
        ]),
        {
          max: 50,
          countText: 'must have at most 50 variables',
          keys: {
            pattern: /^[A-Za-z][A-Za-z0-9_]{0,63}$/,
            message: 'variable names start with a letter and use letters, digits and "_" (at most 64)',
            skipBadKeys: true,
          },
        },
      ),
      'Values checks use as {{var.name}}: what changes per service or release without editing checks.',
    ),
    defaults: doc(obj(policyShapes), 'Policy fields every check takes unless it sets its own.'),
    allow: doc(
      obj({
        hosts: doc(
          list(str({ max: 253 }), 50),
          "Host names, *.domain, IP addresses or * (default: each check's own host).",
        ),
        schemes: doc(
          list(oneOf(probeSchemes), 50, { min: 1, minText: 'must list http, https or both' }),
          'Schemes probes may use (default http and https).',
        ),
        addresses: doc(list(oneOf(addressRanges), 50), 'Address ranges probes may reach besides public ones.'),
        origins: doc(list(str({ max: 300 }), 50), 'Origins a redirect may go to, such as "https://login.example.com".'),
      }),
      'Where probes may go besides public addresses of their own hosts.',
    ),
    secrets: doc(
      map(obj({ ssm: doc(str({ max: 2048 }), 'An SSM parameter name or ARN.') }, ['ssm']), {
        max: maxSecrets,
        countText: `must have at most ${maxSecrets} secrets`,
        readFirst: true,
        keys: {
          pattern: secretNamePattern,
          message: 'secret names start with a letter and use letters, digits, "_" and "-" (at most 64)',
          skipBadKeys: true,
        },
      }),
      'Values checks use as {{secret:name}}, read from SSM Parameter Store when a check measures.',
    ),
    hooks: doc(
      map(doc(list(str(), maxChecks), 'The names of the checks that decide this hook; [] passes without checks.'), {
        keys: {
          names: knownHooks,
          message: `unknown hook or stage (expected one of: ${knownHooks.join(', ')})`,
          skipBadKeys: true,
        },
      }),
      'Hook or stage name ("*": any other) to the checks that decide it.',
    ),
    checks: doc(
      anyOf(
        [
          map(checkShape, {
            max: maxChecks,
            countText: `must have at most ${maxChecks} checks`,
            readFirst: true,
            keys: {
              pattern: checkNamePattern,
              message: 'check names use letters, digits, ".", "_" and "-" (at most 64)',
              skipBadKeys: true,
            },
          }),
          oneOf([null]),
        ],
        { report: 0 },
      ),
      'The checks, by name.',
    ),
    $schema: doc(str({ max: 2048 }), 'The JSON Schema editors check this plan with; greenlight ignores it.'),
  },
  ['version', 'hooks'],
);
