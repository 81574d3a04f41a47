import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of lib/ point one way (docs: DESIGN.md, "One layout that fits"):
 *
 *   lib/triggers  (and lib/gate, the verdict lifecycle the triggers plug into)
 *   lib/aws       adapters behind the checks' ports (and, until it moves to functions/, the wiring)
 *   lib/plan      schema, loading, routing: imports the check registry to read each kind
 *   lib/checks    one file per kind, its port beside it, building a run
 *   lib/runtime   middleware, logger, deadline
 *   lib/spec      the field vocabulary: durations, field readers, plan errors, placeholders, ARNs
 *   lib/core      analyze and policy; pure
 *
 * The graph is read from the source: every `import ... from '...'`, `export ... from '...'`,
 * `import '...'` and `import('...')` of every .ts file under lib/, type-only imports included (a type
 * that crosses a layer ties the layers as surely as a value).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const lib = join(root, 'lib');

interface Edge {
  /** Repository-relative path of the importing file. */
  readonly from: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** Repository-relative path of the imported file, for relative specifiers. */
  readonly to?: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Comment lines out (`//`, `/*`, ` * ...`), so that an example in a docstring is not an import. Whole
 * lines only: a string such as an Accept header's star-slash-star must not start a "comment" that
 * hides the code after it.
 */
function stripComments(source: string): string {
  return source
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
}

const patterns = [
  // import x from '...', import { a, b } from '...', import type ..., export { a } from '...', export * from '...'
  /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  // import '...'
  /\bimport\s*['"]([^'"]+)['"]/g,
  // import('...')
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function edgesOf(file: string): Edge[] {
  const source = stripComments(readFileSync(file, 'utf8'));
  const from = relative(root, file);
  const edges: Edge[] = [];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const specifier = match[1] ?? '';
      const to = specifier.startsWith('.') ? relative(root, resolve(dirname(file), specifier)) : undefined;
      edges.push(to === undefined ? { from, specifier } : { from, specifier, to });
    }
  }
  return edges;
}

const edges = tsFiles(lib).flatMap(edgesOf);

/** `lib/checks` for `lib/checks/http.ts`, `lib/triggers` for `lib/triggers/ecs/hook.ts`; `functions`, `cli` above lib. */
function layerOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'lib' && parts.length > 2 ? `lib/${parts[1]}` : (parts[0] ?? path);
}

function importsFrom(layer: string): Edge[] {
  return edges.filter((e) => layerOf(e.from) === layer);
}

function describeEdge(e: Edge): string {
  return `${e.from} imports '${e.specifier}'`;
}

/** Edges of `layer` that reach a relative file in one of `forbidden`. */
function crossings(layer: string, forbidden: readonly string[]): string[] {
  return importsFrom(layer)
    .filter((e) => e.to !== undefined && forbidden.includes(layerOf(e.to)))
    .map(describeEdge);
}

describe('the import graph of lib/', () => {
  it('is read from the source, multi-line and dynamic imports included', () => {
    // Guards the scan itself: a reader that found nothing would make every rule below pass vacuously.
    expect(edges.length).toBeGreaterThan(100);
    expect(edges).toContainEqual(expect.objectContaining({ from: 'lib/plan/schema.ts', to: 'lib/checks/registry.ts' }));
    // A dynamic import(), loaded on first use so that cold start does not pay for it.
    expect(edges).toContainEqual(expect.objectContaining({ from: 'lib/aws/ssm.ts', to: 'lib/aws/ssm-sdk.ts' }));
    // An import whose `from` is lines below its `import`.
    expect(edges.some((e) => e.from === 'lib/aws/cloudwatch.ts' && e.specifier === '@aws-sdk/client-cloudwatch')).toBe(
      true,
    );
  });

  it('has no cycle between folders', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      if (e.to === undefined) continue;
      const a = layerOf(e.from);
      const b = layerOf(e.to);
      if (a === b) continue;
      graph.set(a, (graph.get(a) ?? new Set()).add(b));
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (node: string, trail: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(node)), node].join(' -> '));
        return;
      }
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) visit(next, [...trail, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('lib/core imports nothing outside lib/core: no npm package, no node: module, no other folder', () => {
    const outside = importsFrom('lib/core')
      .filter((e) => e.to === undefined || layerOf(e.to) !== 'lib/core')
      .map(describeEdge);
    expect(outside).toEqual([]);
  });

  it('lib/spec imports only lib/spec and npm packages (the ARN parser is a parser, not an SDK client)', () => {
    const outside = importsFrom('lib/spec')
      .filter((e) => (e.to !== undefined && layerOf(e.to) !== 'lib/spec') || /^@aws-sdk\/client-/.test(e.specifier))
      .map(describeEdge);
    expect(outside).toEqual([]);
  });

  it('lib/checks never imports lib/plan, lib/triggers, lib/gate or lib/aws: it names ports, adapters implement them', () => {
    expect(crossings('lib/checks', ['lib/plan', 'lib/triggers', 'lib/gate', 'lib/aws'])).toEqual([]);
  });

  it('lib/plan never imports lib/triggers, lib/gate or lib/aws', () => {
    expect(crossings('lib/plan', ['lib/triggers', 'lib/gate', 'lib/aws'])).toEqual([]);
  });

  it('lib/aws never imports lib/triggers or lib/gate: adapters serve the layers above, they do not call them', () => {
    expect(crossings('lib/aws', ['lib/triggers', 'lib/gate'])).toEqual([]);
  });

  it('lib/runtime and lib/spec never import the layers above them', () => {
    const above = ['lib/checks', 'lib/plan', 'lib/aws', 'lib/triggers', 'lib/gate'];
    expect([...crossings('lib/runtime', above), ...crossings('lib/spec', above)]).toEqual([]);
  });

  it('only lib/aws imports an AWS SDK client (@aws-sdk/client-*)', () => {
    const outside = edges
      .filter((e) => /^@aws-sdk\/client-/.test(e.specifier) && layerOf(e.from) !== 'lib/aws')
      .map(describeEdge);
    expect(outside).toEqual([]);
  });

  it('@aws-sdk/* packages other than clients are imported only by lib/aws, and the ARN parser by lib/spec', () => {
    const outside = edges
      .filter((e) => e.specifier.startsWith('@aws-sdk/') && layerOf(e.from) !== 'lib/aws')
      .filter((e) => !(e.specifier === '@aws-sdk/util-arn-parser' && layerOf(e.from) === 'lib/spec'))
      .map(describeEdge);
    expect(outside).toEqual([]);
  });

  it('nothing in lib/ imports functions/ or cli/', () => {
    const up = edges
      .filter((e) => e.to !== undefined && ['functions', 'cli'].includes(layerOf(e.to)))
      .map(describeEdge);
    expect(up).toEqual([]);
  });

  // The rule between triggers and the gate runner: lib/gate owns the verdict lifecycle and receives a
  // trigger as an implementation of one interface, so lib/gate never imports lib/triggers; triggers
  // may import lib/gate's types. When lib/gate exists, the folder-cycle test above already refuses an
  // import each way; this states the direction.
  it('lib/gate never imports lib/triggers (the runner receives a trigger, it never names one)', () => {
    expect(crossings('lib/gate', ['lib/triggers'])).toEqual([]);
  });
});
