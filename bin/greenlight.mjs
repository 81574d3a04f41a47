#!/usr/bin/env node
// The greenlight command. The CLI is TypeScript run by Node.js 24's type stripping; on an older
// `node` first in PATH, it re-runs itself with the Node.js 24 the project installs (npm package
// `node`), found next to this file, so `npx greenlight` works whatever node the shell has.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);

if (major >= 24) {
  const { main, stopOnBrokenPipe } = await import(new URL('../cli/main.ts', import.meta.url).href);
  stopOnBrokenPipe();
  process.exitCode = await main(process.argv.slice(2));
} else {
  const node = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(node)) {
    process.stderr.write(
      `greenlight needs Node.js 24 or later (this is ${process.version}); run npm install in the project to get it\n`,
    );
    process.exit(2);
  }
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C reaches both processes from the terminal; a kill aimed at this one is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`greenlight: cannot start ${node}: ${error.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1));
  });
}
