import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { VERSION } from '../version.js';

type Json = Record<string, unknown>;

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

/**
 * The OpenAPI 3.1 document, generated from the route schemas (`/openapi.json`, browsable at `/docs`). The
 * schemas validate leniently on purpose (a non-string email must reach the handler to get the contract's 401),
 * so the document is finished here to describe what a client must send: string fields, no extra properties,
 * JSON or form bodies, `Retry-After` on 429, an operation id for every operation, no security on public ones.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ras accounts API',
        version: VERSION,
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'Email-and-password accounts with token authentication: signup, login, the logged-in user, logout, ' +
          'sessions, recovery by email. Wire-compatible with the Django REST Framework service it replaces.',
      },
      servers: [{ url: 'http://127.0.0.1:8000', description: 'Ras on its default address (npm start)' }],
      components: {
        securitySchemes: {
          token: {
            type: 'http',
            scheme: 'bearer',
            description:
              'The `auth_token` of signup or login, sent as `Authorization: Bearer <auth_token>` (what this page ' +
              'sends) or `Authorization: Token <auth_token>` (what the original clients send).',
          },
        },
      },
    },
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      finish(document.openapiObject);
      return document.openapiObject;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    logo: { type: 'image/svg+xml', content: Buffer.from(LOGO) },
    theme: { title: 'Ras accounts API' },
  });
}

const ENVELOPE = {
  type: 'object',
  required: ['status_code', 'message'],
  properties: { status_code: { type: 'integer' }, message: { type: 'string' } },
};

const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24"><text x="0" y="19" font-family="sans-serif" font-size="20" fill="#fff">Ras</text></svg>';

function finish(document: Json): Json {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      operation.operationId ??= operationIdOf(method, path);
      operation.security ??= [];
      finishRequestBody(operation);
      finishResponses(operation);
    }
  }
  return document;
}

/** `POST /api/v1/users/{userid}/logout/` → `postUsersUseridLogout`. */
function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v1\//, '')
    .split(/[/{}_]+/)
    .filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

function finishRequestBody(operation: Json): void {
  const content = (operation.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)
    ?.content;
  const schema = content?.['application/json']?.schema;
  if (!content || !schema) return;
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  for (const property of Object.values(properties)) {
    const description = typeof property.description === 'string' ? property.description : '';
    if (property.type === undefined && /\(string/.test(description)) property.type = 'string';
  }
  schema.additionalProperties = false;
  content['application/x-www-form-urlencoded'] = { schema };
}

function finishResponses(operation: Json): void {
  const responses = (operation.responses ?? {}) as Record<string, Json>;
  if (responses['429']) responses['429'].headers = { ...RETRY_AFTER, ...(responses['429'].headers as Json) };
  if (!Object.keys(responses).some((status) => status.startsWith('4'))) {
    responses['429'] = {
      description: 'Too many requests from this address',
      headers: RETRY_AFTER,
      content: { 'application/json': { schema: ENVELOPE } },
    };
  }
  operation.responses = responses;
}
