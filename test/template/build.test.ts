import { readFile } from 'node:fs/promises';
import { basename, join, normalize } from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { intrinsicTags, type Template } from '../../local/template.ts';
import { bundle, entryPoint, esbuildOptions, functionNames } from '../../scripts/build.ts';

/**
 * `sam build` and `npm run build` produce the same thing (issue 14). sam is not installed here, so this
 * reads what SAM would do from template.yaml: SAM CLI hands each function's `Metadata.BuildProperties`
 * to AWS Lambda Builders (keys in snake case), whose nodejs_npm_esbuild workflow runs esbuild with
 * `--bundle --platform=node`, its defaults (`--target=es2020 --format=cjs --minify` when those keys are
 * absent), boolean flags only for `true`, `--key=value` for Target, Format, MainFields and
 * SourcesContent, and `--key:value` per entry of External, Loader, OutExtension and Banner
 * (aws_lambda_builders/workflows/nodejs_npm_esbuild/esbuild.py). After the build, SAM CLI appends
 * `--enable-source-maps` to the NODE_OPTIONS of every esbuild function whose Sourcemap is true and whose
 * NODE_OPTIONS does not already hold it (samcli/lib/build/bundler.py, `_set_sourcemap_env_from_metadata`).
 */

/** Every BuildProperties key SAM's esbuild workflow reads; any other key is silently ignored by SAM. */
const samKeys = [
  'EntryPoints',
  'Format',
  'Target',
  'Minify',
  'Sourcemap',
  'SourcesContent',
  'MainFields',
  'External',
  'Loader',
  'OutExtension',
  'Banner',
] as const;

type BuildProperties = Partial<Record<(typeof samKeys)[number], unknown>>;

/** The esbuild options one function's BuildProperties give, as Lambda Builders' command builder makes them. */
function samEsbuildOptions(props: BuildProperties, codeUri: string): Record<string, unknown> {
  const list = (value: unknown): string[] => (value === undefined ? [] : (value as string[]));
  const pairs = (value: unknown): Record<string, string> =>
    Object.fromEntries(
      list(value).map((item) => {
        const at = item.indexOf('=');
        return [item.slice(0, at), item.slice(at + 1)];
      }),
    );
  return {
    bundle: true,
    platform: 'node',
    format: props.Format ?? 'cjs',
    target: props.Target ?? 'es2020',
    minify: props.Minify === undefined ? true : props.Minify === true,
    sourcemap: props.Sourcemap === true,
    ...(props.SourcesContent === undefined ? {} : { sourcesContent: String(props.SourcesContent) === 'true' }),
    mainFields: props.MainFields === undefined ? undefined : String(props.MainFields).split(','),
    external: list(props.External),
    loader: pairs(props.Loader),
    outExtension: pairs(props.OutExtension),
    banner: pairs(props.Banner),
    entryPoints: list(props.EntryPoints).map((e) => normalize(join(codeUri, e))),
  };
}

/** scripts/build.ts's options for one function, in the same shape. */
function npmEsbuildOptions(name: string): Record<string, unknown> {
  const o = esbuildOptions as Record<string, unknown>;
  return {
    bundle: o.bundle,
    platform: o.platform,
    format: o.format,
    target: o.target,
    minify: o.minify,
    sourcemap: o.sourcemap,
    ...(o.sourcesContent === undefined ? {} : { sourcesContent: o.sourcesContent }),
    mainFields: o.mainFields,
    external: o.external ?? [],
    loader: o.loader ?? {},
    outExtension: o.outExtension,
    banner: o.banner,
    entryPoints: [normalize(entryPoint(name))],
  };
}

let template: Template;
let esbuilt: [string, { Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }][];

beforeAll(async () => {
  // Read as SAM CLI reads it (PyYAML): `true` is a boolean, `'true'` a string that SAM's `is True` refuses.
  template = load(await readFile('template.yaml', 'utf8'), { schema: CORE_SCHEMA.extend(intrinsicTags) }) as Template;
  esbuilt = Object.entries(template.Resources).filter(
    ([, r]) => r.Type === 'AWS::Serverless::Function' && r.Metadata?.BuildMethod === 'esbuild',
  );
});

const buildProperties = (r: { Metadata?: Record<string, unknown> }): BuildProperties =>
  (r.Metadata?.BuildProperties ?? {}) as BuildProperties;

describe('sam build and npm run build', () => {
  it('build every function in functions/, and only those, each from one entry point', async () => {
    const fromTemplate = esbuilt.flatMap(([, r]) => (buildProperties(r).EntryPoints as string[]) ?? []).sort();
    const fromScript = (await functionNames()).map(entryPoint).sort();

    expect(esbuilt.length).toBe(fromScript.length);
    expect(fromTemplate).toEqual(fromScript);
  });

  it('give esbuild the same options for every function, option by option', () => {
    for (const [id, r] of esbuilt) {
      const props = buildProperties(r);
      const unknown = Object.keys(props).filter((k) => !(samKeys as readonly string[]).includes(k));
      expect(unknown, `${id}: BuildProperties SAM would ignore`).toEqual([]);
      const name = basename(normalize(join(String((props.EntryPoints as string[])[0]), '..')));
      const sam = samEsbuildOptions(props, String(r.Properties?.CodeUri ?? '.'));
      const npm = npmEsbuildOptions(name);
      for (const option of Object.keys({ ...sam, ...npm })) {
        expect(sam[option], `${id}: esbuild option ${option}`).toEqual(npm[option]);
      }
    }
  });

  it('put the handler where the template says: index.mjs exporting handler', () => {
    for (const [id, r] of esbuilt) {
      const entry = (buildProperties(r).EntryPoints as string[])[0] as string;
      const outExtension = (esbuildOptions.outExtension as Record<string, string>)['.js'];
      expect(r.Properties?.Handler, id).toBe(`${basename(entry, '.ts')}.handler`);
      expect(outExtension).toBe('.mjs');
    }
  });

  it('ship no source maps, so sam build adds no --enable-source-maps to any function (EnableSourceMaps=false)', () => {
    const globalOptions = (template.Globals?.Function?.Environment as { Variables?: Record<string, unknown> })
      ?.Variables?.NODE_OPTIONS;
    for (const [id, r] of esbuilt) {
      const own = (r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.NODE_OPTIONS;
      const nodeOptions = own ?? globalOptions;
      // SAM CLI: a Sourcemap that is true and NODE_OPTIONS without the flag get " --enable-source-maps".
      const samAdds =
        buildProperties(r).Sourcemap === true &&
        !(typeof nodeOptions === 'string' && nodeOptions.split(/\s+/).includes('--enable-source-maps'));
      expect(samAdds, id).toBe(false);
      expect(JSON.stringify(nodeOptions ?? ''), id).not.toContain('--enable-source-maps');
    }
    expect(esbuildOptions.sourcemap).toBe(false);
  });

  it('leaves the plan to Plan or PlanParameterName: no function is told to read a plan file neither build ships', () => {
    const variables = [
      template.Globals?.Function?.Environment,
      ...esbuilt.map(([, r]) => r.Properties?.Environment),
    ].flatMap((e) => Object.keys((e as { Variables?: object } | undefined)?.Variables ?? {}));

    expect(variables).not.toContain('GREENLIGHT_PLAN_FILE');
    expect(variables).toEqual(expect.arrayContaining(['GREENLIGHT_PLAN', 'GREENLIGHT_PLAN_PARAMETER']));
  });

  it('bundle the durable execution SDK into the durable function only: the other functions load as before', async () => {
    const names = await functionNames();
    const withSdk: string[] = [];
    for (const name of names) if ((await bundle(name)).durableSdk) withSdk.push(name);

    expect(names).toContain('durable-analysis');
    expect(withSdk).toEqual(['durable-analysis']);
  }, 60_000);
});
