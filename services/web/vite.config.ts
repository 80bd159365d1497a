// The admin UI is served by the API (services/api serves dist/ and falls back to index.html), so
// it is built for the origin root. `vite` alone proxies the API to a running coffre on :3000.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 800 },
  server: {
    proxy: {
      '/api': process.env.COFFRE_API ?? 'http://127.0.0.1:3000',
      '/admin': process.env.COFFRE_API ?? 'http://127.0.0.1:3000',
    },
  },
});
