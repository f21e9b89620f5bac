// Compiles the bench (bench/main.ts and the src/ modules it imports) into one ESM file under
// .cache/bench/ (git-ignored), the way scripts/bundle.mjs bundles the CLI, so `npm run bench`
// runs the TypeScript sources as they are now without a TypeScript runner. Prints the file's path.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const outdir = '.cache/bench';
mkdirSync(`${outdir}/proto`, { recursive: true });
await build({
  entryPoints: { bench: 'bench/main.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  legalComments: 'none',
  external: ['cpu-features', '*.node'],
  // The same shims as the CLI bundle: bundled CommonJS dependencies call require() and read
  // __dirname (dockerode loads its BuildKit session .proto files from there).
  banner: {
    js: [
      "import { createRequire as __benchCreateRequire } from 'node:module';",
      "import { dirname as __benchDirname } from 'node:path';",
      "import { fileURLToPath as __benchFileURLToPath } from 'node:url';",
      'const require = __benchCreateRequire(import.meta.url);',
      'var __filename = __benchFileURLToPath(import.meta.url);',
      'var __dirname = __benchDirname(__filename);',
    ].join('\n'),
  },
});
// What the pipeline loads beside its bundle: the prune script, the runtime-needs probe and
// dockerode's .proto files.
copyFileSync('src/slim/prune.sh', `${outdir}/prune.sh`);
copyFileSync('src/measure/runtime-needs.py', `${outdir}/runtime-needs.py`);
for (const name of readdirSync('node_modules/dockerode/lib/proto')) {
  copyFileSync(`node_modules/dockerode/lib/proto/${name}`, `${outdir}/proto/${name}`);
}
console.log(`${outdir}/bench.mjs`);
