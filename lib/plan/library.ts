import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { PlanLibrary } from './load.ts';

/** The file names a key may have in a directory library, tried in this order. */
const extensions = ['', '.yaml', '.yml', '.json'];

/**
 * A plan library kept as files in a directory that mirrors the SSM layout under the prefix:
 * `<dir>/codedeploy/<app>/<group>.yaml`, `<dir>/ecs/<cluster>/<service>.yaml`, `<dir>/lambda/<fn>.yaml`,
 * `<dir>/shared/<name>.yaml` (`.yml`, `.json` or no extension too). Keys are route keys, whose levels
 * cannot be `.` or `..` (lib/plan/route.ts), so a read stays in the directory.
 */
export function directoryLibrary(dir: string): PlanLibrary & { keys(): Promise<string[]> } {
  const textOf = async (key: string): Promise<string | undefined> => {
    for (const ext of extensions) {
      try {
        return await readFile(join(dir, `${key}${ext}`), 'utf8');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'ENOTDIR') throw error;
      }
    }
    return undefined;
  };
  return {
    where: (key) => join(dir, `${key}.yaml`),
    async read(keys) {
      const found = new Map<string, string>();
      for (const key of keys) {
        const text = await textOf(key);
        if (text !== undefined) found.set(key, text);
      }
      return found;
    },
    /** Every key the directory holds (plans and shared check sets), sorted. */
    async keys() {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && /^[^.].*?(\.ya?ml|\.json)?$/.test(e.name))
        .map((e) =>
          relative(dir, join(e.parentPath, e.name))
            .split(sep)
            .join('/')
            .replace(/\.(ya?ml|json)$/, ''),
        )
        .sort();
    },
  };
}
