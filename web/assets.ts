/**
 * The pages' static files, served by the API itself (no CDN: the pages work offline and under
 * a CSP that allows scripts and styles from this origin only): htmx and jsQR from node_modules, and
 * web/assets/. Read once at start; each URL carries a content hash so browsers may cache it
 * for good, and a new release is a new URL.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { packageRoot } from '../common/paths.js';

export interface Asset {
  body: Buffer;
  type: string;
  /** The first 16 hex digits of the content's SHA-256: the URL's version and the ETag. */
  hash: string;
}

export type Assets = ReadonlyMap<string, Asset>;

const require = createRequire(import.meta.url);

const SOURCES: Record<string, { path: string; type: string }> = {
  'htmx.min.js': {
    path: require.resolve('htmx.org/dist/htmx.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'app.js': { path: join(packageRoot, 'web', 'assets', 'app.js'), type: 'text/javascript; charset=utf-8' },
  // The staff desk's QR reader: jsQR (plain JavaScript, no WebAssembly, so the CSP stays
  // script-src 'self'), and the few lines that feed it camera frames.
  'jsQR.js': { path: require.resolve('jsqr/dist/jsQR.js'), type: 'text/javascript; charset=utf-8' },
  'scan.js': { path: join(packageRoot, 'web', 'assets', 'scan.js'), type: 'text/javascript; charset=utf-8' },
  'admin.js': {
    path: join(packageRoot, 'web', 'assets', 'admin.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'app.css': { path: join(packageRoot, 'web', 'assets', 'app.css'), type: 'text/css; charset=utf-8' },
  'icon.svg': { path: join(packageRoot, 'web', 'assets', 'icon.svg'), type: 'image/svg+xml' },
};

export function loadAssets(): Assets {
  const assets = new Map<string, Asset>();
  for (const [name, source] of Object.entries(SOURCES)) {
    const body = readFileSync(source.path);
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
    assets.set(name, { body, type: source.type, hash });
  }
  return assets;
}

/** The versioned URL of an asset. */
export function assetUrl(assets: Assets, name: string): string {
  const asset = assets.get(name);
  if (!asset) throw new Error(`no asset ${name}`);
  return `/assets/${name}?v=${asset.hash}`;
}
