import type { FastifyInstance, HTTPMethods } from 'fastify';
import { envelope } from './error-mapper.js';
import { MESSAGES } from './messages.js';

const ALL_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Answers 405 with `Allow` for the methods a known /api path does not serve (Fastify alone would say 404).
 * Call it before the routes are registered: it records each /api route as it is added, and `register()`
 * then answers the other methods of every path it saw, so a new route gets its 405s with nothing to list.
 * OPTIONS is left to @fastify/cors when CORS is on, so preflight requests keep working.
 */
export function methodNotAllowed(app: FastifyInstance, { corsEnabled }: { corsEnabled: boolean }) {
  const served = new Map<string, Set<HTTPMethods>>();
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const methods = served.get(route.url) ?? new Set<HTTPMethods>();
    for (const method of [route.method].flat()) methods.add(method);
    served.set(route.url, methods);
  });

  return {
    register(): void {
      for (const [url, methods] of [...served]) {
        if (methods.has('GET')) methods.add('HEAD');
        const rejected = ALL_METHODS.filter((m) => !methods.has(m) && !(corsEnabled && m === 'OPTIONS'));
        const allow = [...methods].join(', ');
        app.route({
          method: rejected,
          url,
          schema: { hide: true },
          // Answered in onRequest, before any body is parsed: no route will read it.
          onRequest: (_request, reply) => {
            reply.code(405).header('allow', allow).send(envelope(405, MESSAGES.methodNotAllowed));
          },
          handler: async () => undefined,
        });
      }
    },
  };
}
