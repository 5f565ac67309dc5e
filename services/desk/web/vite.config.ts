import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The desk's web app; `vite build web` (services/desk) writes web/dist, which the desk service serves.
// `vite web` serves it in development, with the API proxied to a running desk on 3007.
export default defineConfig({
  root: __dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/v1': 'http://127.0.0.1:3007' } },
});
