import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticateAdminKey } from '../../accounts/admin-keys.js';
import type { AccountsContext, ClientInfo } from '../../accounts/context.js';
import type { AdminKeyRecord, AdminScope } from '../../accounts/storage.js';
import { envelope } from '../error-mapper.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope an admin route needs (admin listener only). */
    scope?: AdminScope;
  }
  interface FastifyRequest {
    adminKey?: AdminKeyRecord;
  }
}

export const ADMIN_MESSAGES = {
  unauthorized: 'an admin key is required: Authorization: Bearer ras_admin_…',
  forbidden: (scope: string) => `this admin key lacks the scope ${scope}`,
} as const;

/**
 * Every admin route names its scope; the key is read from `Authorization: Bearer` and looked up on each
 * request (none or unknown: 401; without the scope: 403).
 */
export function requireAdminKeys(app: FastifyInstance, ctx: AccountsContext): void {
  app.addHook('onRequest', async (request, reply) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const key = match ? await authenticateAdminKey(ctx, match[1]!) : undefined;
    if (!key) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(envelope(401, ADMIN_MESSAGES.unauthorized));
      return reply;
    }
    if (!key.scopes.includes(scope)) {
      await reply.code(403).send(envelope(403, ADMIN_MESSAGES.forbidden(scope)));
      return reply;
    }
    request.adminKey = key;
  });
}

/** The admin key acting, as events record it. */
export function adminClient(request: FastifyRequest): ClientInfo {
  return {
    ip: request.ip || null,
    userAgent: request.headers['user-agent'] ?? null,
    actor: { type: 'admin_key', name: request.adminKey?.name ?? 'unknown' },
  };
}
