/**
 * A small, strict YAML reader for plans, so that the functions need no general YAML library.
 *
 * It reads one document of block mappings and sequences (spaces for indentation), flow `[...]` and
 * `{...}` collections, plain, single- and double-quoted scalars, literal `|` and folded `>` block
 * scalars, and comments. Plain scalars resolve as in YAML 1.2's core schema: null, booleans, numbers
 * (decimal, `0x` hex, `0o` octal), everything else a string; timestamps stay strings.
 *
 * Anything else fails closed with `source:line:column: what` (1-based): anchors, aliases, tags,
 * directives, complex (`?`) keys, merge keys (`<<`), `.inf`/`.nan`, several documents, duplicate keys,
 * tabs in indentation, bad indentation, unterminated quotes and flows, nesting deeper than 64.
 */

const maxDepth = 64;
const flowIndicators = ',[]{}';
const escapes: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
const hexDigits: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 };

/** Where a value starts: after `key:`, after `- `, or at the top of the document. */
type Slot = 'key' | 'item' | 'top';

/**
 * Reads one YAML document. Returns `undefined` when the text holds no document at all (only blank
 * lines and comments). Throws an `Error` whose message is `${source}:${line}:${column}: <what>`.
 */
export function parseYaml(text: string, source: string): unknown {
  const s = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  /** The reading position. */
  let p = 0;
  /** After `nextLine`: the indentation of the line at `p`; -1 at the end of the text or a document marker. */
  let ind = 0;
  /** Set by `nextLine`: blank lines and whether a comment line came before the line at `p`. */
  let blankLines = 0;
  let commented = false;
  let depth = 0;
  /** The indentation of the block node that holds the flow collection being read. */
  let flowIndent = -1;

  const fail = (what: string, at = p): never => {
    const before = s.slice(0, at);
    const line = before.split('\n').length;
    throw new Error(`${source}:${line}:${at - before.lastIndexOf('\n')}: ${what}`);
  };
  const at = (i = p): string => s.charAt(i);
  const isSpace = (c: string): boolean => c === ' ' || c === '\t';
  /** Whitespace, a line break, or the end of the text. */
  const isBlank = (c: string): boolean => isSpace(c) || c === '\n' || c === '';
  const isFlowIndicator = (c: string): boolean => c !== '' && flowIndicators.includes(c);
  const skipSpaces = (): void => {
    while (isSpace(at())) p++;
  };
  const skipComment = (): void => {
    while (p < s.length && at() !== '\n') p++;
  };
  /** A `---` or `...` line at column `i` (which must be a line start). */
  const isMarker = (i: number): boolean => (s.startsWith('---', i) || s.startsWith('...', i)) && isBlank(at(i + 3));
  const show = (c: string): string => (c === '\n' ? 'line break' : JSON.stringify(c));
  const enter = (): void => {
    if (++depth > maxDepth) fail(`nesting is deeper than ${maxDepth} levels`);
  };

  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if ((code < 32 && code !== 9 && code !== 10) || code === 127) fail('control characters are not allowed', i);
  }

  /** Moves to the first content of the next line that has any, skipping blank and comment lines. */
  const nextLine = (): void => {
    blankLines = 0;
    commented = false;
    for (;;) {
      if (at() === '\n') p++;
      const start = p;
      while (at() === ' ') p++;
      if (at() === '\t') {
        const tab = p;
        skipSpaces();
        if (!isBlank(at()) && at() !== '#') fail('tab characters must not be used in indentation', tab);
      }
      const c = at();
      if (c === '') {
        ind = -1;
        return;
      }
      if (c === '#') {
        commented = true;
        skipComment();
      } else if (c === '\n') {
        blankLines++;
      } else {
        ind = p === start && isMarker(p) ? -1 : p - start;
        return;
      }
    }
  };

  /** Ends a line after a value: only spaces and a comment may follow. */
  const endLine = (): void => {
    skipSpaces();
    if (at() === '#') skipComment();
    if (at() !== '\n' && at() !== '') fail(`unexpected ${show(at())} after a value`);
    nextLine();
  };

  /** Rejects what cannot start a node (or a plain scalar) at `p`. */
  const checkStart = (flow: boolean): void => {
    const c = at();
    const next = at(p + 1);
    const alone = isBlank(next) || (flow && isFlowIndicator(next));
    if (c === '&') fail('anchors (&) are not supported');
    if (c === '*') fail('aliases (*) are not supported');
    if (c === '!') fail('tags (!) are not supported');
    if (c === '?' && alone) fail('complex keys (?) are not supported');
    if (c !== '' && '%@`|>'.includes(c)) fail(`a plain value cannot start with ${show(c)}; quote it`);
    if (c === '-' && alone) fail('a sequence entry cannot start here');
    if (c === ':' && alone) fail('a mapping key is missing before ":"');
    if (isFlowIndicator(c) || c === '#' || c === '\n' || c === '') fail(`unexpected ${show(c)}`);
  };

  /** Resolves a plain scalar (YAML 1.2 core schema). */
  const resolve = (t: string, start: number): unknown => {
    if (/^(?:~|null|Null|NULL|)$/.test(t)) return null;
    if (/^(?:true|True|TRUE)$/.test(t)) return true;
    if (/^(?:false|False|FALSE)$/.test(t)) return false;
    const float = /^[-+]?(?:\.\d+|\d+(?:\.\d*)?)(?:[eE][-+]?\d+)?$/.test(t);
    if (float || /^(?:0x[\da-fA-F]+|0o[0-7]+)$/.test(t)) {
      const n = Number(t);
      if (!Number.isFinite(n)) fail(`${t} is out of range`, start);
      // Integers have no negative zero; floats do.
      return float && /[.eE]/.test(t) ? n : n + 0;
    }
    if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/.test(t)) {
      fail(`${t} is not supported (quote it for a string)`, start);
    }
    return t;
  };

  /**
   * Reads a plain scalar's text up to the end of its line, a comment, or (in a key or flow) `: `;
   * returns it without trailing spaces. In a block value, `: ` is an error.
   */
  const segment = (key: boolean, flow: boolean): string => {
    const start = p;
    let end = p;
    for (;;) {
      const c = at();
      if (c === '\n' || c === '' || (c === '#' && isBlank(at(p - 1))) || (flow && isFlowIndicator(c))) break;
      if (c === ':' && (isBlank(at(p + 1)) || (flow && isFlowIndicator(at(p + 1))))) {
        if (key || flow) break;
        fail('unexpected ": " in a plain value (quote the value, or check the indentation)');
      }
      p++;
      if (!isSpace(c)) end = p;
    }
    return s.slice(start, end);
  };

  /** Folds the line breaks at `p` inside a quoted scalar; `escaped` after a `\` line break. */
  const foldBreaks = (escaped: boolean): string => {
    let breaks = 0;
    while (at() === '\n') {
      p++;
      if (isMarker(p)) fail('document marker inside a quoted string');
      skipSpaces();
      if (at() === '\n') breaks++;
    }
    return breaks ? '\n'.repeat(breaks) : escaped ? '' : ' ';
  };

  const quoted = (): string => {
    const open = p;
    const q = at();
    let out = '';
    p++;
    for (;;) {
      const c = at();
      if (c === '') fail(`unterminated ${q === '"' ? 'double' : 'single'}-quoted string`, open);
      p++;
      if (c === q) {
        if (q === '"' || at() !== "'") return out;
        out += "'";
        p++;
      } else if (isSpace(c) || c === '\n') {
        const from = p - 1;
        p = from;
        skipSpaces();
        out += at() === '\n' ? foldBreaks(false) : s.slice(from, p);
      } else if (c === '\\' && q === '"') {
        const e = at();
        const digits = hexDigits[e];
        if (e === '\n') {
          out += foldBreaks(true);
        } else if (digits) {
          const hex = s.slice(p + 1, p + 1 + digits);
          const code = /^[\da-fA-F]+$/.test(hex) && hex.length === digits ? Number.parseInt(hex, 16) : -1;
          if (code < 0 || code > 0x10ffff) fail(`invalid escape \\${e}${hex}`, p - 1);
          out += String.fromCodePoint(code);
          p += 1 + digits;
        } else {
          const r = escapes[e];
          if (r === undefined) fail(`invalid escape \\${e}`, p - 1);
          out += r;
          p++;
        }
      } else {
        out += c;
      }
    }
  };

  /** A node in a flow collection. */
  const flowNode = (): unknown => {
    const c = at();
    if (c === '[' || c === '{') return flow();
    if (c === '"' || c === "'") return quoted();
    const start = p;
    checkStart(true);
    let out = segment(false, true);
    // A plain scalar may go on over lines: a single break folds into a space, blank lines into breaks.
    while (at() === '\n') {
      let q = p;
      let line = p;
      let breaks = 0;
      for (;;) {
        line = ++q;
        if (isMarker(q)) fail('document marker inside a flow collection', q);
        while (isSpace(at(q))) q++;
        if (at(q) !== '\n') break;
        breaks++;
      }
      const c = at(q);
      if (
        q - line <= flowIndent ||
        c === '' ||
        c === '#' ||
        isFlowIndicator(c) ||
        (c === ':' && (isBlank(at(q + 1)) || isFlowIndicator(at(q + 1))))
      ) {
        break;
      }
      p = q;
      out += (breaks ? '\n'.repeat(breaks) : ' ') + segment(false, true);
    }
    return resolve(out, start);
  };

  /** Reads a flow key and returns it as a string (keys of plain objects are strings). */
  const flowKey = (): string => {
    const start = p;
    const c = at();
    if (c === '[' || c === '{') fail('complex keys are not supported');
    const key = String(flowNode());
    if (key === '<<' && c === '<') fail('merge keys (<<) are not supported', start);
    return key;
  };

  const flow = (): unknown[] | Record<string, unknown> => {
    enter();
    const open = p;
    const isSeq = at() === '[';
    const close = isSeq ? ']' : '}';
    if (!isSeq && at(p + 1) === '{') {
      fail('a value that starts with "{{" must be quoted (YAML reads "{" as the start of a flow mapping)');
    }
    const list: unknown[] = [];
    const map: Record<string, unknown> = {};
    const skip = (): void => {
      for (;;) {
        const c = at();
        if (isSpace(c)) p++;
        else if (c === '#' && isBlank(at(p - 1))) skipComment();
        else if (c === '\n') {
          p++;
          if (isMarker(p)) fail('document marker inside a flow collection');
        } else if (c === '') fail(`unterminated flow ${isSeq ? 'sequence' : 'mapping'}`, open);
        else return;
      }
    };
    /** After a key that starts at `start`: its value, or null when the entry has none. */
    const pairValue = (start: number): unknown => {
      skip();
      if (at() !== ':') return null;
      if (s.slice(start, p).includes('\n')) fail('a mapping key must be on one line', start);
      p++;
      skip();
      return at() === ',' || at() === close ? null : flowNode();
    };
    p++;
    for (;;) {
      skip();
      if (at() === close) break;
      const start = p;
      if (isSeq) {
        const c = at();
        const value = flowNode();
        skip();
        if (at() === ':') {
          if (c === '[' || c === '{') fail('complex keys are not supported', start);
          const pair: Record<string, unknown> = {};
          set(pair, String(value), pairValue(start));
          list.push(pair);
        } else list.push(value);
      } else {
        const key = flowKey();
        if (Object.hasOwn(map, key)) fail(`duplicated mapping key ${JSON.stringify(key)}`, start);
        set(map, key, pairValue(start));
      }
      skip();
      if (at() === ',') p++;
      else if (at() !== close) fail(`expected "," or "${close}" in a flow ${isSeq ? 'sequence' : 'mapping'}`);
    }
    p++;
    depth--;
    return isSeq ? list : map;
  };

  /** A block scalar (`|` or `>`) whose header is at `p`, in a node indented `parent`. */
  const blockScalar = (parent: number): string => {
    const folded = at() === '>';
    p++;
    let chomp = '';
    /** The content's indentation: from the header, else from the first content line; -1 until known. */
    let indent = -1;
    for (let i = 0; i < 2; i++) {
      const c = at();
      if (!chomp && (c === '-' || c === '+')) chomp = c;
      else if (indent < 0 && c >= '1' && c <= '9') indent = parent + Number(c);
      else break;
      p++;
    }
    if (!isBlank(at())) fail('invalid block scalar header (expected | or > with an optional 1-9 and - or +)');
    skipSpaces();
    if (at() === '#') skipComment();
    if (at() !== '\n' && at() !== '') fail(`unexpected ${show(at())} after a block scalar header`);
    const lines: string[] = [];
    let longestBlank = 0;
    let q = p;
    while (q < s.length - 1) {
      const from = q + 1;
      const end = s.indexOf('\n', from) < 0 ? s.length : s.indexOf('\n', from);
      let spaces = from;
      while (at(spaces) === ' ') spaces++;
      spaces -= from;
      if (spaces === end - from && (indent < 0 || spaces <= indent)) {
        // A blank line (more spaces than the indentation make a line of spaces once it is known).
        longestBlank = Math.max(longestBlank, spaces);
        lines.push('');
      } else {
        if (indent < 0) {
          if (spaces <= parent) break;
          indent = spaces;
          if (longestBlank > indent) fail('a leading blank line has more spaces than the block scalar', from);
        }
        if (spaces < indent || (spaces === 0 && isMarker(from))) break;
        lines.push(s.slice(from + indent, end));
      }
      q = end;
    }
    // Blank lines after the last content line belong to the chomping, not the content.
    let last = lines.length;
    while (last > 0 && lines[last - 1] === '') last--;
    let out = '';
    let gap = 0;
    let previous: string | undefined;
    for (const line of lines.slice(0, last)) {
      if (line === '') {
        gap++;
        continue;
      }
      if (previous === undefined) out += '\n'.repeat(gap);
      else if (folded && !isSpace(previous.charAt(0)) && !isSpace(line.charAt(0))) out += gap ? '\n'.repeat(gap) : ' ';
      else out += '\n'.repeat(gap + 1);
      out += line;
      previous = line;
      gap = 0;
    }
    if (chomp === '+') out += '\n'.repeat(lines.length - last + (last ? 1 : 0));
    else if (chomp === '' && last) out += '\n';
    p = q;
    nextLine();
    return out;
  };

  /** A scalar or flow collection at `p` in block context, in a node indented `parent`. */
  const scalar = (parent: number): unknown => {
    const c = at();
    const start = p;
    if (c === '|' || c === '>') return blockScalar(parent);
    let value: unknown;
    if (c === '[' || c === '{') {
      flowIndent = parent;
      value = flow();
      skipSpaces();
      if (at() === ':' && isBlank(at(p + 1))) fail('complex keys are not supported', start);
    } else if (c === '"' || c === "'") {
      value = quoted();
    } else {
      checkStart(false);
      let out = segment(false, false);
      for (;;) {
        const comment = at() === '#';
        if (comment) skipComment();
        nextLine();
        // It goes on over more indented lines, until a comment.
        if (comment || commented || ind <= parent) break;
        out += (blankLines ? '\n'.repeat(blankLines) : ' ') + segment(false, false);
      }
      return resolve(out, start);
    }
    endLine();
    return value;
  };

  /** Whether a mapping key (a quoted or plain scalar followed by `: `) is at `p`. */
  const isKey = (): boolean => {
    const start = p;
    const c = at();
    if (c === '"' || c === "'") quoted();
    else segment(true, false);
    skipSpaces();
    const key = at() === ':' && isBlank(at(p + 1));
    p = start;
    return key;
  };

  /** Reads `key:` of a block mapping entry, leaving `p` after the colon. */
  const blockKey = (): string => {
    const start = p;
    const c = at();
    let key: string;
    if (c === '"' || c === "'") {
      key = quoted();
      if (s.slice(start, p).includes('\n')) fail('a mapping key must be on one line', start);
    } else {
      if (c === '-' && isBlank(at(p + 1))) fail('expected a mapping key, found a sequence entry');
      checkStart(false);
      const text = segment(true, false);
      if (text === '<<') fail('merge keys (<<) are not supported', start);
      key = String(resolve(text, start));
    }
    skipSpaces();
    if (at() !== ':' || !isBlank(at(p + 1))) fail('expected ": " after a mapping key');
    p++;
    return key;
  };

  /** The value after `key:` or `- ` or `---`, of a node indented `parent`. */
  const value = (parent: number, slot: Slot): unknown => {
    const from = p;
    skipSpaces();
    const c = at();
    if (c === '#' || c === '\n' || c === '') {
      endLine();
      if (ind > parent) return block(parent);
      // A sequence may sit at its key's indentation.
      if (ind === parent && slot === 'key' && at() === '-' && isBlank(at(p + 1))) return sequence(ind);
      return null;
    }
    // After `- ` (and `---`) a mapping or sequence may start on the same line; after `key:` not.
    return slot === 'key' ? scalar(parent) : block(parent, s.slice(from, p).includes('\t'));
  };

  /** A node at `p` (its column is its indentation) in a node indented `parent`; `tabbed` when a tab is before it. */
  const block = (parent: number, tabbed = false): unknown => {
    const column = p - s.lastIndexOf('\n', p - 1) - 1;
    const collection =
      at() === '-' && isBlank(at(p + 1)) ? sequence : at() !== '[' && at() !== '{' && isKey() && mapping;
    if (!collection) return scalar(parent);
    // A mapping or sequence on the line of its `- ` is indented by the spaces before it.
    if (tabbed) fail('tab characters must not be used in indentation');
    return collection(column);
  };

  const sequence = (n: number): unknown[] => {
    enter();
    const list: unknown[] = [];
    do {
      p++;
      list.push(value(n, 'item'));
    } while (ind === n && at() === '-' && isBlank(at(p + 1)));
    depth--;
    return list;
  };

  const mapping = (n: number): Record<string, unknown> => {
    enter();
    const map: Record<string, unknown> = {};
    do {
      const start = p;
      const key = blockKey();
      if (Object.hasOwn(map, key)) fail(`duplicated mapping key ${JSON.stringify(key)}`, start);
      set(map, key, value(n, 'key'));
    } while (ind === n);
    if (ind > n) fail(`bad indentation (the mapping's keys are at column ${n + 1})`);
    depth--;
    return map;
  };

  nextLine();
  if (ind === 0 && at() === '%') fail('directives (%) are not supported');
  let doc: unknown;
  if (ind === -1 && s.startsWith('---', p)) {
    p += 3;
    doc = value(-1, 'top');
  } else if (ind >= 0) {
    doc = block(-1);
  }
  if (ind >= 0) fail('expected the end of the document (check the indentation)');
  if (s.startsWith('...', p)) {
    p += 3;
    endLine();
  }
  if (p < s.length) fail('multiple documents are not supported');
  return doc;
}

/** Sets a key as own data, `__proto__` included. */
function set(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  else map[key] = value;
}
