import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root, with a trailing slash. */
export const root = new URL('../../', import.meta.url).pathname;

/** A markdown file of the documentation: its path from the root and its text. */
export interface DocFile {
  readonly file: string;
  readonly text: string;
}

/**
 * README.md, SECURITY.md and every docs/*.md (not docs/incoming/, which holds drafts the docs have not
 * placed yet), in a stable order.
 */
export function docFiles(): DocFile[] {
  const docs = readdirSync(join(root, 'docs'), { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => `docs/${e.name}`)
    .sort();
  return ['README.md', 'SECURITY.md', ...docs].map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));
}

/** One fenced code block: where it is (file, 1-based line of its opening fence) and its body as written. */
export interface CodeBlock {
  readonly file: string;
  readonly line: number;
  readonly body: string;
}

/** Every fenced block of `lang` (```yaml, ```json, ...) in the documentation. */
export function codeBlocks(lang: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const { file, text } of docFiles()) {
    for (const m of text.matchAll(/^```([a-z]*)\n([\s\S]*?)^```/gm)) {
      if (m[1] !== lang) continue;
      blocks.push({ file, line: text.slice(0, m.index).split('\n').length, body: m[2] ?? '' });
    }
  }
  return blocks;
}

/** The first ```lang block after the first occurrence of `marker` in `file`, as written there. */
export function blockAfter(file: string, marker: string, lang = 'yaml'): string {
  const text = readFileSync(join(root, file), 'utf8');
  const at = text.indexOf(marker);
  if (at === -1) throw new Error(`${file} has no ${marker}`);
  const block = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'm').exec(text.slice(at));
  if (!block?.[1]) throw new Error(`no ${lang} block after ${marker} in ${file}`);
  return block[1];
}

/** The lines of `text` outside fenced code blocks (a `# comment` in a shell block is not a heading). */
export function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) {
      fenced = !fenced;
      lines.push('');
      continue;
    }
    lines.push(fenced ? '' : line);
  }
  return lines;
}

/**
 * The anchors GitHub gives the headings of `text`: the heading's text without markup, lower-cased,
 * without punctuation other than `-` and `_`, spaces made `-`; a repeated anchor gets `-1`, `-2`, ...
 * (github-slugger, which github.com uses).
 */
export function headingAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(text)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = (m[1] ?? '')
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '');
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** A relative link of the documentation: where it is written and where it points. */
export interface DocLink {
  readonly file: string;
  readonly line: number;
  readonly target: string;
}

/** Every inline link and image (`[text](target)`) outside code, absolute URLs and mail links excluded. */
export function relativeLinks(doc: DocFile): DocLink[] {
  const links: DocLink[] = [];
  proseLines(doc.text).forEach((line, i) => {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ file: doc.file, line: i + 1, target });
    }
  });
  return links;
}

/** A plan whose `*` entry runs the checks of `fragment`, declaring the `{{secret:...}}` names it uses. */
export function planAround(fragment: string): string {
  const names = [...fragment.matchAll(/^ {2}([A-Za-z0-9][\w.-]*):\s*$/gm)].map(([, n]) => n);
  const secrets = [...new Set([...fragment.matchAll(/\{\{secret:([\w.-]+)\}\}/g)].map(([, n]) => n))];
  return [
    'version: 1',
    ...(secrets.length ? ['secrets:', ...secrets.map((s) => `  ${s}: { ssm: /greenlight/${s} }`)] : []),
    'hooks:',
    `  "*": [${names.join(', ')}]`,
    'checks:',
    fragment,
  ].join('\n');
}

/** The plan `top` begins: a version before it, and the `*` entry running its checks (or none). */
export function planFrom(top: string): string {
  const at = top.indexOf('\nchecks:\n');
  const fragment = at === -1 ? '' : top.slice(at + '\nchecks:\n'.length);
  const names = [...fragment.matchAll(/^ {2}([A-Za-z0-9][\w.-]*):\s*$/gm)].map(([, n]) => n);
  const head = at === -1 ? top.trimEnd() : top.slice(0, at);
  return [
    'version: 1',
    head,
    'hooks:',
    `  "*": [${names.join(', ')}]`,
    ...(fragment ? ['checks:', fragment] : ['checks: {}']),
  ].join('\n');
}
