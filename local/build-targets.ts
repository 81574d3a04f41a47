import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Which function folder each `build-<LogicalId>` target of the project's Makefile builds: the one place
 * that says which code a template function runs. `sam build` runs that target for the function
 * (`BuildMethod: makefile`); local invoke, the rehearsal and the template tests read the same line.
 * The recipe is `$(BUILD) <folder>`, the folder under `functions/` that holds the entry `index.ts`.
 *
 * Throws a `BuildTargetsError` for a target without that recipe, a folder named twice or a target
 * written twice: a Makefile the tools cannot read is refused, never read as "no function".
 */
export function buildTargets(makefile: string): ReadonlyMap<string, string> {
  const targets = new Map<string, string>();
  const folders = new Set<string>();
  const lines = makefile.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    const target = /^build-([A-Za-z0-9]+)\s*:/.exec(line)?.[1];
    if (target === undefined) continue;
    // The recipe: the tab-indented lines that follow the rule.
    const recipe: string[] = [];
    for (let j = i + 1; j < lines.length && lines[j]?.startsWith('\t'); j++) recipe.push((lines[j] as string).trim());
    const folder =
      recipe.length === 1 ? /^\$\(BUILD\)\s+([a-z0-9][a-z0-9-]*)$/.exec(recipe[0] as string)?.[1] : undefined;
    if (folder === undefined) {
      throw new BuildTargetsError(
        `Makefile line ${i + 1}: build-${target} must have one recipe line, $(BUILD) <function folder>; found ${JSON.stringify(recipe)}`,
      );
    }
    if (targets.has(target)) throw new BuildTargetsError(`Makefile line ${i + 1}: build-${target} is written twice`);
    if (folders.has(folder)) throw new BuildTargetsError(`Makefile line ${i + 1}: ${folder} is built by two targets`);
    targets.set(target, folder);
    folders.add(folder);
  }
  return targets;
}

/** `buildTargets` of the Makefile in `projectRoot` (where template.yaml's `CodeUri: .` puts it). */
export async function readBuildTargets(projectRoot = '.'): Promise<ReadonlyMap<string, string>> {
  return buildTargets(await readFile(join(projectRoot, 'Makefile'), 'utf8'));
}

/** A function folder's entry point, relative to the project: `functions/<folder>/index.ts`. */
export function entryPoint(folder: string): string {
  return join('functions', folder, 'index.ts');
}

/** The Makefile does not say, in the one form the tools read, which function a target builds. */
export class BuildTargetsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BuildTargetsError';
  }
}
