// Bundles each function the way template.yaml's SAM esbuild build does (test/template/build.test.ts
// compares the two option by option): ESM, minified, SDK bundled, no source maps, to
// dist/<function-folder>/index.mjs exporting `handler`. Nothing else is shipped: `sam build` ships only
// the bundle, so plans come inline (Plan) or from SSM (PlanParameterName), never from a folder.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export const esbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The SDK's ES-module builds: a quarter smaller and about 40% faster to import than its CommonJS ones.
  mainFields: ['module', 'main'] as string[],
  target: 'node24',
  minify: true,
  // No maps: SAM's esbuild build cannot ship them without adding NODE_OPTIONS=--enable-source-maps to
  // every function, which decodes them at every cold start (about 13 MiB at 128 MB).
  sourcemap: false,
  // The SDK's CommonJS parts still call require() for node built-ins.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const;

/** A function's entry point, as template.yaml's `BuildProperties.EntryPoints` names it (relative to CodeUri `.`). */
export function entryPoint(name: string): string {
  return join('functions', name, 'index.ts');
}

/** The function folders: those with an index.ts entry (functions/shared holds the composition root's wiring). */
export async function functionNames(root = 'functions'): Promise<string[]> {
  const names = await readdir(root);
  const out: string[] = [];
  for (const name of names.sort()) {
    const entry = await stat(join(root, name, 'index.ts')).catch(() => undefined);
    if (entry?.isFile()) out.push(name);
  }
  return out;
}

/** The durable execution SDK's package: only the durable function (functions/durable-analysis) may bundle it. */
export const durableSdkPackage = '@aws/durable-execution-sdk-js';

/**
 * Bundles one function (to `outdir`, or in memory without one) and says what it holds: its size in bytes
 * and whether the durable execution SDK is in it (from esbuild's metafile), so that the functions that do
 * not run on durable executions are seen not to pay for it at cold start.
 */
export async function bundle(name: string, outdir?: string): Promise<{ bytes: number; durableSdk: boolean }> {
  const result = await build({
    ...esbuildOptions,
    entryPoints: [entryPoint(name)],
    outdir: outdir ?? join('dist', name),
    write: outdir !== undefined,
    metafile: true,
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  return {
    bytes: outputs.reduce((sum, [, o]) => sum + o.bytes, 0),
    durableSdk: outputs.some(([, o]) =>
      Object.keys(o.inputs).some((input) => input.includes(`node_modules/${durableSdkPackage}/`)),
    ),
  };
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const names = (await functionNames()).filter((n) => only.length === 0 || only.includes(n));
  await rm('dist', { recursive: true, force: true });
  for (const name of names) {
    const outdir = join('dist', name);
    const { bytes, durableSdk } = await bundle(name, outdir);
    console.log(
      `${outdir}/index.mjs  ${(bytes / 1024).toFixed(1)} KiB${durableSdk ? '  (durable execution SDK)' : ''}`,
    );
  }
}

if (import.meta.main) await main();
