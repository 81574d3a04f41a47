import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { docFiles, headingAnchors, proseLines, relativeLinks, root } from './docs.ts';

// README.md is the front door and the reference lives in docs/: these tests keep every link between
// them working, the front door short, and the paths the docs name real.

const docs = docFiles();
const links = docs.flatMap(relativeLinks);

/** Whether `target` (a link written in `file`) resolves: the file exists, and so does its #anchor. */
function problemOf(file: string, target: string): string | undefined {
  const [pathPart = '', anchor] = target.split('#', 2);
  const path = pathPart === '' ? file : normalize(join(dirname(file), decodeURI(pathPart)));
  if (path.startsWith('..')) return `${path} is outside the repository`;
  if (!existsSync(join(root, path))) return `${path} does not exist`;
  if (anchor === undefined) return undefined;
  if (!path.endsWith('.md') || statSync(join(root, path)).isDirectory()) {
    return `#${anchor} points into ${path}, which has no headings`;
  }
  const anchors = headingAnchors(readFileSync(join(root, path), 'utf8'));
  return anchors.has(anchor) ? undefined : `${path} has no heading #${anchor} (it has: ${[...anchors].join(', ')})`;
}

describe('the documentation', () => {
  it('is README.md, SECURITY.md and the reference under docs/', () => {
    const files = docs.map((d) => d.file);
    for (const file of ['plan', 'checks', 'codedeploy', 'ecs', 'waits', 'cli', 'operations', 'performance', 'proton']) {
      expect(files).toContain(`docs/${file}.md`);
    }
  });

  it('keeps README.md under 12 KiB', () => {
    expect(statSync(join(root, 'README.md')).size).toBeLessThan(12_288);
  });

  it('links from README.md to every page under docs/ and to SECURITY.md', () => {
    const fromReadme = new Set(links.filter((l) => l.file === 'README.md').map((l) => l.target.split('#')[0]));
    for (const { file } of docs.filter((d) => d.file !== 'README.md')) {
      expect(fromReadme, `README.md does not link to ${file}`).toContain(file);
    }
  });

  it('finds the links it checks', () => {
    expect(links.length).toBeGreaterThan(40);
    expect(links.some((l) => l.target.includes('#'))).toBe(true);
  });

  it.each(links.map((l) => [`${l.file}:${l.line}`, l.target, l.file]))(
    'resolves the link at %s to %s',
    (_at, target, file) => {
      expect(problemOf(file, target)).toBeUndefined();
    },
  );

  it('names only repository paths that exist', () => {
    const missing: string[] = [];
    for (const { file, text } of docs) {
      proseLines(text).forEach((line, i) => {
        for (const [, code = ''] of line.matchAll(/`([^`\s]+)`/g)) {
          const path = /^(?:\.ci|bench|bin|cli|docs|events|functions|lib|local|scripts|test)\/[\w./-]*$/.exec(
            code,
          )?.[0];
          if (path && !existsSync(join(root, path))) missing.push(`${file}:${i + 1}: ${path}`);
        }
      });
    }
    expect(missing).toEqual([]);
  });

  it('has no placeholder comments left', () => {
    const comments = docs.flatMap(({ file, text }) =>
      proseLines(text).flatMap((line, i) => (line.includes('<!--') ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(comments).toEqual([]);
  });
});

describe('headingAnchors', () => {
  it('makes anchors as GitHub does: markup and punctuation dropped, repeats numbered', () => {
    const text = [
      "## Where probes may go: the plan's `allow` block",
      '### `ecs-tasks`: green\u2019s tasks are running, healthy, and none crashed',
      '## Run one function as `sam local invoke` would, without Docker: `npm run invoke`',
      '## Placeholders',
      '```sh',
      '# not a heading',
      '```',
      '## Placeholders',
      '## [Linked](x.md) heading',
    ].join('\n');

    expect([...headingAnchors(text)]).toEqual([
      'where-probes-may-go-the-plans-allow-block',
      'ecs-tasks-greens-tasks-are-running-healthy-and-none-crashed',
      'run-one-function-as-sam-local-invoke-would-without-docker-npm-run-invoke',
      'placeholders',
      'placeholders-1',
      'linked-heading',
    ]);
  });
});
