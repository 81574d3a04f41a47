// greenlight's command line: `greenlight <command>` (the package's bin) or `node cli/main.ts <command>`.
// Commands are imported when chosen, so `--help` and `validate` never load the AWS SDK, and the
// rehearsal can set the functions' environment before their modules load.

const usage = `usage: greenlight <command> [options]

commands:
  rehearse   rehearse a blue/green release on this machine through the real functions (npm start)
  check      run a plan's checks for one hook against real endpoints; a dry run, reports nowhere
  validate   check a plan without running it
  invoke     run a function of template.yaml locally, as sam local invoke would, without Docker
             (--local: against greenlight's own fakes, with the deployment the event names)
  schema     print the plan's JSON Schema, for editors (--write updates schema/plan.schema.json)
  status     where greenlight is with a deployment: the hook judged, measurements, verdict (--watch)
  help       this text; greenlight <command> --help for each command

Every command takes --help; rehearse, check and validate take --json for one JSON document on stdout.`;

type Command = (argv: readonly string[]) => Promise<number>;

const commands: Readonly<Record<string, () => Promise<Command>>> = {
  rehearse: async () => (await import('./rehearsal/rehearse.ts')).rehearseCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  validate: async () => (await import('./validate.ts')).validateCommand,
  invoke: async () => (await import('./invoke.ts')).invokeCommand,
  schema: async () => (await import('./schema.ts')).schemaCommand,
  status: async () => (await import('./status.ts')).statusCommand,
};

/** Runs one command line and returns its exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && commands[topic]) return (await commands[topic]())(['--help']);
    (name === undefined ? process.stderr : process.stdout).write(`${usage}\n`);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`greenlight: unknown command ${JSON.stringify(name)}\n\n${usage}\n`);
    return 2;
  }
  return (await load())(rest);
}

/**
 * When the reader of our output goes away (`greenlight rehearse | head`), stop as on SIGTERM rather
 * than crash on EPIPE: the rehearsal then still stops the servers and moto_server it started.
 */
export function stopOnBrokenPipe(): void {
  let stopping = false;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (stopping) return;
      stopping = true;
      process.kill(process.pid, 'SIGTERM');
    });
  }
}

if (import.meta.main) {
  stopOnBrokenPipe();
  const code = await main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`greenlight: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  });
  // Let stdout drain before leaving, so a piped JSON document is never cut short.
  process.exitCode = code;
}
