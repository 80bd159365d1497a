// The admin UI is served by the API (services/api serves dist/ and falls back to index.html), so
// it is built for the origin root. `vite` alone proxies the API to a running coffre on :3000.
// Each page is its own chunk (App.tsx loads them lazily); every text file is written beside itself
// compressed with brotli and gzip, which the API serves to browsers that accept them.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react(), precompress()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 300 },
  server: {
    proxy: {
      '/api': process.env.COFFRE_API ?? 'http://127.0.0.1:3000',
      '/admin': process.env.COFFRE_API ?? 'http://127.0.0.1:3000',
    },
  },
});

/** Writes <file>.br and <file>.gz beside every .js, .css, .html and .svg of the build larger than 1 KB. */
function precompress(): Plugin {
  return {
    name: 'coffre-precompress',
    apply: 'build',
    async writeBundle(options) {
      const dir = options.dir!;
      for (const path of await filesUnder(dir)) {
        if (!/\.(js|css|html|svg)$/.test(path)) continue;
        const content = await readFile(path);
        if (content.length < 1024) continue;
        await writeFile(`${path}.br`, brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: content.length } }));
        await writeFile(`${path}.gz`, gzipSync(content, { level: 9 }));
      }
    },
  };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)])));
  return nested.flat();
}
