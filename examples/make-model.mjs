// Makes the small model the examples bundle: a word-level LSTM trained by the
// mnemo CLI on the bundled Brown corpus (words seen fewer than 20 times are
// <unk>; embedding = hidden = 48, tied; a 30-second budget), written to
// examples/models/brown-small.safetensors and copied next to the edge worker
// and the extension. Skips training when the model exists (--force retrains).
//   node examples/make-model.mjs [--force] [--minutes M]
// Needs the built package (npm run build).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const minutesAt = args.indexOf('--minutes');
const minutes = minutesAt >= 0 ? Number(args[minutesAt + 1]) : 0.5;
if (!(minutes > 0)) throw new Error(`--minutes must be a number > 0, got ${args[minutesAt + 1]}`);
const model = here('./models/brown-small.safetensors');

if (args.includes('--force') || !existsSync(model)) {
  mkdirSync(here('./models'), { recursive: true });
  const cli = here('../dist/src/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [cli, 'train', '--level', 'word', '--min-count', '20',
    '--embedding', '48', '--hidden', '48', '--lr', '0.01', '--minutes', String(minutes), '--seed', '1',
    '--quiet', '--out', model], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) throw new Error(`mnemo train exited with ${run.status ?? run.signal}`);
  console.log(`trained ${model} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
for (const dir of ['edge', 'extension']) copyFileSync(model, here(`./${dir}/model.safetensors`));
console.log(`copied the model to examples/edge and examples/extension`);
