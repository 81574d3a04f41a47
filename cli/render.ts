import { styleText } from 'node:util';

/**
 * Where the CLI's words go. Human output goes to stdout; with `--json` stdout carries one JSON
 * document and the human progress goes to stderr, so CI can parse stdout and still show progress.
 * The writers are taken when the output is made, before the rehearsal captures the function logs.
 */
export interface Output {
  readonly json: boolean;
  /** A line of human output (progress, tables). */
  line(text?: string): void;
  /** The one JSON document of `--json`; nothing in human mode. */
  document(value: unknown): void;
  /** A problem with the command itself (usage, unreadable file): always stderr. */
  problem(text: string): void;
  /** Styles text when the human stream is a terminal and NO_COLOR is unset. */
  style(format: StyleFormat, text: string): string;
}

export type StyleFormat = Parameters<typeof styleText>[0];

export function createOutput(options: { json: boolean }): Output {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const writeOut = stdout.write.bind(stdout);
  const writeErr = stderr.write.bind(stderr);
  const human = options.json ? stderr : stdout;
  const writeHuman = options.json ? writeErr : writeOut;
  return {
    json: options.json,
    line: (text = '') => {
      writeHuman(`${text}\n`);
    },
    document: (value) => {
      if (options.json) writeOut(`${JSON.stringify(value, null, 2)}\n`);
    },
    problem: (text) => {
      writeErr(`${text}\n`);
    },
    style: (format, text) => styleText(format, text, { stream: human }),
  };
}

/** One check as the verdict tables show it, whether it comes from the engine or from a function's logs. */
export interface CheckRow {
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  readonly dryRun: boolean;
  readonly taken: number;
  /** Measurements the schedule allows, when known. */
  readonly count?: number;
  readonly failures: number;
  readonly errors: number;
  readonly reason: string;
}

/** One measurement as it happens. */
export interface MeasurementLine {
  readonly check: string;
  readonly outcome: string;
  readonly message: string;
  /** Milliseconds since the step started. */
  readonly atMs: number;
  readonly index: number;
  readonly count?: number;
}

const outcomeStyle: Record<string, StyleFormat> = {
  pass: 'green',
  Succeeded: 'green',
  SUCCEEDED: 'green',
  fail: 'red',
  Failed: 'red',
  FAILED: 'red',
  error: 'red',
  inconclusive: 'yellow',
  running: 'yellow',
  stopped: 'yellow',
  IN_PROGRESS: 'yellow',
  Skipped: 'dim',
  skipped: 'dim',
};

export function styled(out: Output, status: string): string {
  const format = outcomeStyle[status];
  return format ? out.style(format, status) : status;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** `    +1.0s  green-health   2/5  fail   GET http://host:port/health: status 503, expected 200` */
export function measurementLine(out: Output, m: MeasurementLine, nameWidth: number): string {
  const at = `+${formatSeconds(m.atMs)}`.padStart(7);
  const progress = `${m.index}${m.count !== undefined ? `/${m.count}` : ''}`.padStart(5);
  const outcome = styled(out, m.outcome) + ' '.repeat(Math.max(0, 5 - m.outcome.length));
  return `  ${out.style('dim', at)}  ${m.check.padEnd(nameWidth)} ${progress}  ${outcome} ${m.message}`;
}

/** A plain text table; styled cells keep their alignment because widths are measured on the plain text. */
export function table(
  out: Output,
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  indent = '  ',
): string[] {
  const plain = (c: Cell): string => (typeof c === 'string' ? c : c.text);
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => plain(r[i] ?? '').length)));
  const render = (cells: readonly Cell[], isHeader: boolean): string =>
    indent +
    cells
      .map((c, i) => {
        const text = plain(c);
        const shown = typeof c === 'string' ? (isHeader ? out.style('bold', text) : text) : styled(out, text);
        return i === cells.length - 1 ? shown : shown + ' '.repeat((widths[i] ?? 0) - text.length);
      })
      .join('  ')
      .trimEnd();
  return [render(headers, true), ...rows.map((r) => render(r, false))];
}

/** A cell whose text is styled by its status word. */
export type Cell = string | { readonly text: string };

export function status(text: string): Cell {
  return { text };
}

/** The verdict table of one analysis: one row per check. */
export function checkTable(out: Output, rows: readonly CheckRow[], indent = '    '): string[] {
  if (rows.length === 0) return [`${indent}(no checks)`];
  return table(
    out,
    ['check', 'result', 'measured', 'failed', 'errors', 'reason'],
    rows.map((r) => [
      r.dryRun ? `${r.name} (dry run)` : r.name,
      status(r.status),
      r.count !== undefined ? `${r.taken} of ${r.count}` : String(r.taken),
      String(r.failures),
      String(r.errors),
      r.reason,
    ]),
    indent,
  );
}
