#!/usr/bin/env node
// The `mnemo` command. `info` reports the runtime and the wasm build in use;
// the language-model commands (train, eval, generate, predict) come with the
// language-model layer.

import { readFileSync } from 'node:fs';
import { hasRelaxedSimd, init } from './node.js';

const USAGE = `usage: mnemo <command>

commands:
  info       show the version, the runtime, and the wasm build mnemo picks here
  help       show this text

options:
  --version  print the version`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function info(): Promise<void> {
  const rt = await init();
  const stats = rt.memoryStats();
  console.log(`mnemo ${version()}`);
  console.log(`runtime     Node ${process.versions.node} (V8 ${process.versions.v8}), ${process.platform}-${process.arch}`);
  console.log(`wasm build  ${rt.build} (relaxed SIMD ${hasRelaxedSimd() ? 'validates' : 'does not validate'} here)`);
  console.log(`memory      ${(stats.memoryBytes / 2 ** 20).toFixed(0)} MiB now, at most ${(stats.maxBytes / 2 ** 20).toFixed(0)} MiB`);
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version' || command === '-v') { console.log(version()); return 0; }
  if (command === 'info') { await info(); return 0; }
  console.error(`mnemo: unknown command '${command}'\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  console.error(`mnemo: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
