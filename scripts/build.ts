// Builds the functions: `npm run build` into dist/<function-folder>/, and `sam build` through the Makefile
// (`node scripts/build.ts --outdir "$(ARTIFACTS_DIR)" <folder>`, one function into the folder SAM zips).
// Each function is index.mjs exporting `handler` plus the ES-module chunks it imports, in chunks/: code
// only some plans or invocations need (re2js for bodyMatches, js-yaml for YAML plans, the SSM and
// EventBridge clients) is in chunks the entry imports dynamically, so it is neither read nor evaluated at
// a cold start that does not need it. No source maps. Nothing else is shipped: plans come inline (Plan)
// or from SSM (PlanParameterName), never from a folder.
//   node scripts/build.ts [folder...]                 every function (or those named) into dist/
//   node scripts/build.ts --outdir DIR folder         one function into DIR (replaces DIR/index.mjs and DIR/chunks)
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { entryPoint } from '../local/build-targets.ts';

export { entryPoint };

/** The esbuild options every build of a function shares, in memory or on disk (the tests and the bench use them too). */
export const esbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The SDK's ES-module builds: a quarter smaller and about 40% faster to import than its CommonJS ones.
  mainFields: ['module', 'main'] as string[],
  target: 'node24',
  minify: true,
  // No maps: decoding them needs NODE_OPTIONS=--enable-source-maps and costs about 13 MiB at every cold start.
  sourcemap: false,
  // The SDK's CommonJS parts still call require() for node built-ins; esbuild puts the banner in every chunk.
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
} as const;

/**
 * What a deployed build adds: ES-module chunks next to index.mjs, `chunks/<name>-<hash>.mjs`: `<name>` is the
 * file a dynamic import() loads (its folder's for an index.js: re2js's build/index.js gives `build`, an SDK
 * package's dist-es/index.js `dist-es`), or `chunk` for code shared between chunks; the hash is from the
 * chunk's content, so a rebuild of the same code writes the same files.
 */
export const splitOptions = {
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryNames: 'index',
} as const;

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
 * Packages only some plans need (re2js for `bodyMatches`, js-yaml for YAML plans): a build whose entry
 * would load one of them at module init is refused, since every cold start would pay for it.
 */
export const onDemandPackages = ['re2js', 'js-yaml'] as const;

/** A function cannot be built as it must be deployed. */
export class BuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildError';
  }
}

/** One function's build, as its outputs say. */
export interface Built {
  /** Every output file, relative to the output folder (index.mjs first), with its size in bytes. */
  readonly files: readonly { readonly file: string; readonly bytes: number }[];
  /** The bytes of all files: what is deployed. */
  readonly bytes: number;
  /** The bytes index.mjs loads at module init: itself and the chunks it reaches through static imports. */
  readonly initBytes: number;
  /** The files index.mjs loads at module init, relative to the output folder. */
  readonly initFiles: readonly string[];
  /** Whether the durable execution SDK is in any file. */
  readonly durableSdk: boolean;
  readonly metafile: Metafile;
}

/**
 * The output files an output loads when it is imported: itself and, transitively, the chunks it imports
 * statically (`import-statement`); chunks reached only through `import()` are loaded when that runs.
 */
export function loadedAtImport(metafile: Metafile, output: string): Set<string> {
  const seen = new Set<string>();
  const stack = [output];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const i of metafile.outputs[file]?.imports ?? []) {
      if (i.kind === 'import-statement' && !i.external) stack.push(i.path);
    }
  }
  return seen;
}

/**
 * Builds one function (into `outdir`, or in memory without one) as it is deployed and says what it holds
 * (from esbuild's metafile): its files and their sizes, what the entry loads at module init, and whether
 * the durable execution SDK is in it, so that the functions that do not run on durable executions are seen
 * not to pay for it. `cwd` is the project (default: the process's working directory). Throws a
 * `BuildError`, having written nothing, when the entry would load one of the `onDemandPackages` at
 * module init.
 */
export async function bundle(name: string, outdir?: string, cwd = process.cwd()): Promise<Built> {
  const dir = resolve(cwd, outdir ?? join('dist', name));
  const result = await build({
    ...esbuildOptions,
    ...splitOptions,
    absWorkingDir: cwd,
    entryPoints: [entryPoint(name)],
    outdir: dir,
    // Written below, once the build is known to be one that may be deployed.
    write: false,
    metafile: true,
  });
  const { metafile } = result;
  // Metafile paths are relative to the working directory. Chunks a dynamic import loads have an entryPoint too.
  const outputs = Object.entries(metafile.outputs).filter(([file]) => file.endsWith('.mjs'));
  const entry = outputs.find(([, o]) => o.entryPoint === entryPoint(name))?.[0];
  if (entry === undefined) throw new BuildError(`${name}: esbuild wrote no entry`);
  const inDir = (file: string) => relative(dir, join(cwd, file));
  const files = outputs
    .map(([file, o]) => ({ file: inDir(file), bytes: o.bytes }))
    .sort((a, b) => (a.file === 'index.mjs' ? -1 : b.file === 'index.mjs' ? 1 : a.file.localeCompare(b.file)));
  if (files[0]?.file !== 'index.mjs') throw new BuildError(`${name}: the entry is ${inDir(entry)}, not index.mjs`);
  const init = loadedAtImport(metafile, entry);
  for (const pkg of onDemandPackages) {
    const eager = [...init].filter((f) =>
      Object.keys(metafile.outputs[f]?.inputs ?? {}).some((i) => i.includes(`node_modules/${pkg}/`)),
    );
    if (eager.length > 0) {
      throw new BuildError(
        `${name}: index.mjs would load ${pkg} at module init (in ${eager.map(inDir).join(', ')}): import it with import() where a plan needs it`,
      );
    }
  }
  if (outdir !== undefined) {
    for (const file of result.outputFiles) {
      await mkdir(dirname(file.path), { recursive: true });
      await writeFile(file.path, file.contents);
    }
  }
  return {
    files,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    initBytes: [...init].reduce((sum, f) => sum + (metafile.outputs[f]?.bytes ?? 0), 0),
    initFiles: [...init].map(inDir).sort(),
    durableSdk: outputs.some(([, o]) =>
      Object.keys(o.inputs).some((input) => input.includes(`node_modules/${durableSdkPackage}/`)),
    ),
    metafile,
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { outdir: { type: 'string' } }, allowPositionals: true });
  const all = await functionNames();
  const unknown = positionals.filter((n) => !all.includes(n));
  if (unknown.length > 0)
    throw new BuildError(`no function folder ${unknown.join(', ')} (functions: ${all.join(', ')})`);
  const outdir = values.outdir;
  if (outdir !== undefined && (outdir === '' || positionals.length !== 1)) {
    throw new BuildError('--outdir DIR builds exactly one function: node scripts/build.ts --outdir DIR <folder>');
  }
  const names = positionals.length === 0 ? all : positionals;
  // Only what a build writes is replaced: --outdir may be a folder that holds other things.
  if (outdir === undefined) await rm('dist', { recursive: true, force: true });
  for (const name of names) {
    const dir = outdir ?? join('dist', name);
    await rm(join(dir, 'index.mjs'), { force: true });
    await rm(join(dir, 'chunks'), { recursive: true, force: true });
    const built = await bundle(name, dir);
    // The folder, not index.mjs: the size is every file's, and index.mjs is only one of them.
    const entryBytes = built.files[0]?.bytes ?? 0;
    console.log(
      `${join(dir, '/')}  ${kib(built.bytes)} in ${built.files.length} files (index.mjs ${kib(entryBytes)}), ${kib(built.initBytes)} loaded at init${built.durableSdk ? '  (durable execution SDK)' : ''}`,
    );
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    if (!(error instanceof BuildError)) throw error;
    console.error(`build: ${error.message}`);
    process.exitCode = 1;
  }
}
