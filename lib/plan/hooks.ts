/** Every hook or stage name a plan's `hooks` may map, by the trigger that runs it. */
export const codeDeployHooks = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;

export const ecsStages = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
] as const;

export const waitHooks = ['ReadyWait', 'TerminationWait'] as const;

export const protonHooks = ['ProtonPipeline'] as const;

/** SAM's names for the Lambda platform's traffic hooks. */
export const hookAliases: Readonly<Record<string, string>> = {
  PreTraffic: 'BeforeAllowTraffic',
  PostTraffic: 'AfterAllowTraffic',
};

export const fallbackHook = '*';

export const knownHooks: readonly string[] = [
  ...codeDeployHooks,
  ...Object.keys(hookAliases),
  ...ecsStages,
  ...waitHooks,
  ...protonHooks,
  fallbackHook,
];
