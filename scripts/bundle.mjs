// Bundles the action (dist/index.js, dist/post.js) and the CLI (dist/cli.js) reproducibly:
// no timestamps, no absolute paths, no minification, so CI can rebuild and diff.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const banner = {
  // Bundled CommonJS dependencies call require() and read __dirname (dockerode loads its BuildKit
  // session .proto files from there): give them both in the ESM bundle.
  js: [
    "import { createRequire as __slimpyCreateRequire } from 'node:module';",
    "import { dirname as __slimpyDirname } from 'node:path';",
    "import { fileURLToPath as __slimpyFileURLToPath } from 'node:url';",
    'const require = __slimpyCreateRequire(import.meta.url);',
    // `var`, not `const`: @azure/storage-common (under @actions/cache) declares its own top-level
    // `var __filename` / `var __dirname`, which a `const` here would make a SyntaxError at load.
    'var __filename = __slimpyFileURLToPath(import.meta.url);',
    'var __dirname = __slimpyDirname(__filename);',
  ].join('\n'),
};
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner,
  legalComments: 'none',
  logLevel: 'warning',
  // Optional native addons of ssh2 (dockerode's ssh:// transport): loaded in try/catch, absent here.
  external: ['cpu-features', '*.node'],
};
mkdirSync('dist', { recursive: true });
await build({
  ...common,
  entryPoints: { index: 'src/index.ts', post: 'src/post.ts' },
  outdir: 'dist',
});
await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: 'dist',
  banner: { js: '#!/usr/bin/env node\n' + banner.js },
});
// The prune script travels next to the bundle: it is sent to the engine inside the build context.
copyFileSync('src/slim/prune.sh', 'dist/prune.sh');
// The runtime-needs probe runs in a container of the image, with the image's own Python.
copyFileSync('src/measure/runtime-needs.py', 'dist/runtime-needs.py');
mkdirSync('dist/proto', { recursive: true });
for (const name of readdirSync('node_modules/dockerode/lib/proto')) {
  copyFileSync(`node_modules/dockerode/lib/proto/${name}`, `dist/proto/${name}`);
}
