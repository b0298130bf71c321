/**
 * Builds the account page into dist/page/: the script bundled with esbuild (with @ras/client,
 * @simplewebauthn/browser and qrcode inside: the page loads nothing from another host), the HTML and the CSS
 * copied. Run by `npm run build`.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const source = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const target = (name: string) => fileURLToPath(new URL(`../dist/page/${name}`, import.meta.url));

await mkdir(target(''), { recursive: true });
await build({
  entryPoints: [source('account.ts')],
  outfile: target('account.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
await Promise.all(
  ['index.html', 'account.css', 'favicon.svg'].map((name) => copyFile(source(name), target(name))),
);
