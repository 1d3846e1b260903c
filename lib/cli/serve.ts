// `unet serve`: the browser page (dist/web, built by scripts/build-web.js) on a local static
// server. Any static server does as well; this one needs nothing but Node.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import { packageRoot } from '../package-root';
import { integerOption } from './args';
import { defineCommand } from './command';

/** Where the built page is. */
export const WEB_ROOT = path.join(packageRoot, 'dist', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
};

/** Serves the files under `root` (GET and HEAD; nothing outside it); resolves once listening. */
export function serveStatic(root: string, port: number, host: string): Promise<http.Server> {
  const base = path.resolve(root);
  const server = http.createServer((request, response) => {
    const send = (status: number, text: string): void => {
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(text);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad path');
    }
    const file = path.join(base, path.normalize(pathname.endsWith('/') ? `${pathname}index.html` : pathname));
    if (file !== base && !file.startsWith(base + path.sep)) return send(403, 'outside the served folder');
    fs.stat(file, (error, stat) => {
      if (error || !stat.isFile()) return send(404, 'not found');
      response.writeHead(200, {
        'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': stat.size,
      });
      if (request.method === 'HEAD') return response.end();
      fs.createReadStream(file).pipe(response);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** `unet serve` */
export const serveCommand = defineCommand({
  name: 'serve',
  synopsis: '[options]',
  flags: {
    port: { type: 'string', placeholder: 'N', help: 'port (default 8080; 0: any free port)' },
    host: { type: 'string', placeholder: 'H', help: 'address to listen on (default 127.0.0.1)' },
  },
  epilogue: `Open the printed address, choose a model written by \`unet export\` and an image (or drop
one): the page runs overlap-tile prediction in a Web Worker with onnxruntime-web (WebGPU where
the browser has it, else WASM), shows the cells over the image and offers the label PNG.
The page is dist/web, a static site: any static server can serve it instead. Ctrl-C stops.`,
  async run(values) {
    if (!fs.existsSync(path.join(WEB_ROOT, 'index.html')))
      throw new Error(`${WEB_ROOT} holds no page: it is built by npm run build:ts (needs the dev dependency esbuild and onnxruntime-web)`);
    const server = await serveStatic(WEB_ROOT, integerOption('port', values.port) ?? 8080, values.host ?? '127.0.0.1');
    const address = server.address() as { address: string; port: number };
    process.stdout.write(`serving ${WEB_ROOT} at http://${address.address}:${address.port}/ (Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        server.close(() => resolve());
        server.closeAllConnections();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  },
});
