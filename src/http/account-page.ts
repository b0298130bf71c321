import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { envelope } from './error-mapper.js';

/** Where `npm run build` puts the page (page/build.ts): the same from src/http/ and dist/http/. */
const PAGE_DIR = fileURLToPath(new URL('../../dist/page/', import.meta.url));

/**
 * Only this origin's own files, no inline script or style, no framing, no plugins, and requests only back to
 * this origin (the API). `data:` images are not needed: the QR code is an SVG element.
 */
export const ACCOUNT_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': ACCOUNT_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'publickey-credentials-get=(self), publickey-credentials-create=(self)',
  'cache-control': 'no-cache',
};

/**
 * GET /account/: the account page (page/, built into dist/page/) as static files with a strict CSP. It has no
 * route of its own beyond its files: it speaks to the public API like any client.
 */
export async function registerAccountPage(app: FastifyInstance): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      reply.headers(PAGE_HEADERS);
      return payload;
    });
    if (!existsSync(PAGE_DIR)) {
      // A checkout run from its sources without `npm run build`: say so rather than 404.
      scope.get('/account/', { schema: { hide: true } }, async (_request, reply) =>
        reply.code(503).send(envelope(503, 'the account page is not built: run npm run build')),
      );
      return;
    }
    await scope.register(fastifyStatic, {
      root: PAGE_DIR,
      prefix: '/account/',
      wildcard: false,
      index: 'index.html',
      decorateReply: false,
      dotfiles: 'ignore',
      cacheControl: false,
      etag: true,
    });
  });
}
