/** One structured log line of a function, as Powertools Logger prints it (one JSON object per line). */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

export interface LogCapture {
  /** Puts process.stdout and process.stderr back as they were. */
  restore(): void;
}

/**
 * Routes the functions' JSON log lines to `onRecord` while handlers run in this process, instead of
 * letting them reach the terminal. Powertools Logger writes through a Console bound to
 * process.stdout (debug, info) and process.stderr (warn, error), so replacing the streams' `write`
 * sees every line without changing the logger or the functions. Anything that is not a log record
 * (a stray console.log, a warning from Node) goes through unchanged.
 */
export function captureLogs(onRecord: (record: LogRecord) => void): LogCapture {
  const restorers = [process.stdout, process.stderr].map((stream) => intercept(stream, onRecord));
  return {
    restore: () => {
      for (const restore of restorers) restore();
    },
  };
}

function intercept(stream: NodeJS.WriteStream, onRecord: (record: LogRecord) => void): () => void {
  const original = stream.write;
  const passThrough = original.bind(stream);
  let pending = '';
  const replacement = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const callback = rest.find((r): r is (error?: Error | null) => void => typeof r === 'function');
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      const record = parseRecord(line);
      if (record) {
        try {
          onRecord(record);
        } catch {
          // Rendering progress must never break the function being rehearsed.
        }
      } else {
        passThrough(`${line}\n`);
      }
      newline = pending.indexOf('\n');
    }
    if (callback) queueMicrotask(() => callback(null));
    return true;
  };
  stream.write = replacement as typeof stream.write;
  return () => {
    if (pending) passThrough(pending);
    pending = '';
    stream.write = original;
  };
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    if (typeof record.level !== 'string' || typeof record.message !== 'string') return undefined;
    return record as LogRecord;
  } catch {
    return undefined;
  }
}
