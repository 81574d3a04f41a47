/**
 * The one YAML reader for plans (the functions, the CLI and the rehearsal): js-yaml, YAML 1.2 with its
 * core schema (null, booleans, integers in decimal, `0x`, `0o` and `0b`, floats; everything else a
 * string, timestamps included), imported on first use so that a JSON plan never loads it.
 *
 * A plan is data, so what YAML can say beyond data fails closed, with `source:line:column: what`
 * (1-based): anchors (&), aliases (*), tags (!), merge keys (a plain `<<`), explicit (`?`) keys and
 * collections as keys, several documents, duplicate keys, `.inf`/`.nan`, nesting deeper than 64
 * nodes, and directives js-yaml warns about. A value that starts with `{{` must be quoted. (A float out
 * of range is no float in js-yaml: it stays a string.)
 */
import type { LoadOptions, State } from 'js-yaml';

const maxDepth = 64;

type JsYaml = typeof import('js-yaml');

let loading: Promise<JsYaml> | undefined;

/** js-yaml, imported and its guard checked once; a failed import is retried by the next call. */
function jsYaml(): Promise<JsYaml> {
  loading ??= import('js-yaml').then(
    (yaml) => {
      checkGuard(yaml);
      return yaml;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * Fails closed if the guard does not hold on this js-yaml: it relies on js-yaml's listener and on the
 * names of its loader state's fields, which a js-yaml release could change. Throws an `Error`.
 */
export function checkGuard(yaml: JsYaml): void {
  for (const [probe, refusal] of [
    ['a: &x 1', 'anchors'],
    ['a: !!str 1', 'tags'],
    ['a: [x]\n---\nb: 1', 'several documents'],
  ] as const) {
    let refused = false;
    try {
      read(yaml, probe, 'probe');
    } catch (error) {
      refused = error instanceof YamlError && error.message.includes(refusal);
    }
    if (!refused) throw new Error(`the plan reader cannot refuse ${refusal} with this js-yaml: no YAML plan is read`);
  }
}

/** A plan's YAML that cannot be read or is refused; the message is `source:line:column: what`. */
export class YamlError extends Error {
  override readonly name = 'YamlError';
  /** Where, 1-based. */
  readonly line: number;
  readonly column: number;

  constructor(source: string, line: number, column: number, what: string, options?: ErrorOptions) {
    super(`${source}:${line}:${column}: ${what}`, options);
    this.line = line;
    this.column = column;
  }
}

/**
 * Reads one YAML document. Resolves to `undefined` for empty text and `null` for a document of only
 * comments (the plan's schema refuses both). Rejects with a `YamlError`.
 *
 * @example await parseYaml('version: 1\nhooks: {}', 'plan.yaml') // { version: 1, hooks: {} }
 */
export async function parseYaml(text: string, source: string): Promise<unknown> {
  return read(await jsYaml(), text, source);
}

function read(yaml: JsYaml, text: string, source: string): unknown {
  const guard = new Guard();
  try {
    return yaml.load(text, {
      schema: yaml.CORE_SCHEMA,
      json: false,
      maxDepth,
      // A closing bracket left of its flow's indentation reads as meant; the other warnings say the
      // document may mean something else (an unknown directive, another YAML version): refused.
      onWarning: (warning) => {
        if (warning.reason !== 'deficient indentation') throw warning;
      },
      listener(event, state) {
        guard.see(event, state as Composing);
      },
    } as LoadOptions);
  } catch (error) {
    if (error instanceof Refusal) {
      const { line, column } = lineAndColumn(error.input, error.position);
      throw new YamlError(source, line, column, error.message);
    }
    if (error instanceof yaml.YAMLException) {
      // Only "several documents" comes without a mark, and the guard refuses it first.
      const { mark, reason } = error as { mark?: { line: number; column: number }; reason: string };
      let line = (mark?.line ?? 0) + 1;
      let column = (mark?.column ?? 0) + 1;
      if (reason.startsWith('unidentified alias')) {
        // js-yaml marks the end of the alias; the guard knows where its node starts.
        const at = guard.nodeStart();
        if (at) ({ line, column } = lineAndColumn(at.input, at.position));
        throw new YamlError(source, line, column, 'aliases (*) are not supported', { cause: error });
      }
      throw new YamlError(source, line, column, reason, { cause: error });
    }
    throw error;
  }
}

/** What the guard reads of js-yaml's loader state (the types leave out `depth` and `tag`). */
interface Composing extends State {
  /** The nesting of the node being composed: 1 for a document's top node. */
  readonly depth: number;
  tag: string | null;
}

/** What the guard refuses, at a position of the text js-yaml reads (its byte order mark removed). */
class Refusal extends Error {
  readonly input: string;
  readonly position: number;

  constructor(message: string, input: string, position: number) {
    super(message);
    this.input = input;
    this.position = position;
  }
}

/**
 * Watches js-yaml compose the document (its `listener`, called as each node opens and closes) and
 * refuses what a plan must not use. Tags and anchors are caught as js-yaml records them on the node,
 * through accessors on its state's `tag` and `anchor`: a tag is the only way a node's tag goes from
 * none to a name (a plain scalar's goes through `?`, the tag to resolve), an anchor the only way a
 * node gets one. Aliases need an anchor, so refusing anchors leaves only unknown aliases, which
 * js-yaml refuses itself.
 */
class Guard {
  /** Where each open node starts (before the separation space js-yaml skips), innermost last. */
  private readonly opened: number[] = [];
  private watched: Composing | undefined;
  private documents = 0;

  see(event: 'open' | 'close', state: Composing): void {
    if (this.watched !== state) this.watch(state);
    if (event === 'open') {
      this.opened.push(state.position);
      this.open(state);
    } else {
      this.close(state);
      this.opened.pop();
    }
  }

  private open(state: Composing): void {
    const { input, position } = state;
    if (state.depth === 1 && ++this.documents > 1) {
      this.refuse(state, 'several documents are not supported (one plan, one document)');
    }
    // An explicit key: js-yaml reads the `?` (and, in a flow, the spaces after it), then opens the key.
    let before = position - 1;
    while (input.charAt(before) === ' ' || input.charAt(before) === '\t') before--;
    if (input.charAt(before) === '?' && (before === 0 || ' \t\n\r[{,'.includes(input.charAt(before - 1)))) {
      throw new Refusal('explicit keys (?) are not supported', input, before);
    }
    const start = this.start(state);
    const c = input.charAt(start);
    if (c === '?' && isBlank(input.charAt(start + 1)))
      throw new Refusal('explicit keys (?) are not supported', input, start);
    if (c === '{' && input.charAt(start + 1) === '{') {
      throw new Refusal(
        'a value that starts with "{{" must be quoted (YAML reads "{" as the start of a flow mapping)',
        input,
        start,
      );
    }
  }

  private close(state: Composing): void {
    const { input, position, kind, result } = state;
    if (kind === 'scalar') {
      // A plain `<<` stays unresolved (`?`): in YAML 1.1 it was a merge key.
      if (state.tag === '?' && result === '<<') this.refuse(state, 'merge keys (<<) are not supported');
      // JSON has no such numbers, nor has a plan. (js-yaml reads a float out of range as a string.)
      if (typeof result === 'number' && !Number.isFinite(result)) {
        const text = input.slice(this.start(state), position).trim();
        this.refuse(state, `${text} is not supported (quote it for a string)`);
      }
    } else if ((kind === 'mapping' || kind === 'sequence') && '}]'.includes(input.charAt(position - 1))) {
      // A flow collection followed on its line by ":" is a mapping key (js-yaml would key it by its text).
      let next = position;
      while (input.charAt(next) === ' ' || input.charAt(next) === '\t') next++;
      if (input.charAt(next) === ':') this.refuse(state, 'complex keys (a collection as a key) are not supported');
    }
  }

  /** Where the innermost open node starts, in the text js-yaml reads; undefined before the first node. */
  nodeStart(): { input: string; position: number } | undefined {
    return this.watched && { input: this.watched.input, position: this.start(this.watched) };
  }

  /** Installs the accessors on the state js-yaml composes with (one per document stream). */
  private watch(state: Composing): void {
    this.watched = state;
    let tag: string | null = null;
    let anchor: string | null = null;
    Object.defineProperty(state, 'tag', {
      configurable: true,
      enumerable: true,
      get: () => tag,
      set: (value: string | null) => {
        if (tag === null && value !== null && value !== '?') this.refuse(state, 'tags (!) are not supported');
        tag = value;
      },
    });
    Object.defineProperty(state, 'anchor', {
      configurable: true,
      enumerable: true,
      get: () => anchor,
      set: (value: string | null) => {
        if (anchor === null && value !== null) this.refuse(state, 'anchors (&) are not supported');
        anchor = value;
      },
    });
  }

  /** Where the innermost open node's content (or first property) starts: after spaces, breaks and comments. */
  private start(state: Composing): number {
    const { input } = state;
    let p = this.opened.at(-1) ?? state.position;
    for (;;) {
      const c = input.charAt(p);
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') p++;
      else if (c === '#') {
        while (p < input.length && input.charAt(p) !== '\n' && input.charAt(p) !== '\r') p++;
      } else return p;
    }
  }

  private refuse(state: Composing, what: string): never {
    throw new Refusal(what, state.input, this.start(state));
  }
}

function isBlank(c: string): boolean {
  return c === '' || c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** 1-based line and column of a position, counting line breaks as YAML does (LF, CRLF, CR). */
function lineAndColumn(input: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position && i < input.length; i++) {
    const c = input.charAt(i);
    if (c === '\n' || (c === '\r' && input.charAt(i + 1) !== '\n')) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}
