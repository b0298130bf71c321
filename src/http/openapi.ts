import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MESSAGES } from './messages.js';
import { LENIENT } from './schemas.js';
import { VERSION } from '../version.js';

type Json = Record<string, unknown>;

/**
 * The OpenAPI 3.1 document, generated from the route schemas (`/openapi.json`, browsable at `/docs`). The
 * schemas validate leniently on purpose (a non-string email must reach the handler to get the contract's 401),
 * so the document is finished here to describe what a client must send: string fields, no extra properties,
 * JSON or form bodies, `Retry-After` on 429, an operation id for every operation, no security on public ones,
 * the answers every body or database can cause (400, 413, 415, 503), and the schemas a route names with a
 * `title` as `components.schemas`, each response with the messages Ras really sends there as examples.
 */
export async function registerOpenApi(app: FastifyInstance, publicUrl: string | null): Promise<void> {
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
      // Relative by default, so "Try it out" calls the origin the page was loaded from, on any port and behind
      // any proxy; PUBLIC_URL names it for clients that read the document elsewhere.
      servers: [
        publicUrl
          ? { url: publicUrl, description: 'Ras (PUBLIC_URL)' }
          : { url: '/', description: 'The origin this document was served from' },
      ],
      components: {
        securitySchemes: {
          token: {
            type: 'http',
            scheme: 'bearer',
            description:
              'The `auth_token` of signup or login, sent as `Authorization: Bearer <auth_token>` (what this page ' +
              'sends) or `Authorization: Token <auth_token>` (what the original clients send).',
          },
          // The seed's own scheme, described as drf-spectacular describes DRF's TokenAuthentication, so a
          // client or a validating proxy built from this document accepts `Authorization: Token <key>` too.
          tokenAuth: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'Token-based authentication with required prefix "Token"',
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
    // One document URL: the page's own copies send it to /openapi.json, which it follows.
    uiHooks: {
      onRequest: (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        const route = request.routeOptions.url ?? '';
        if (route.endsWith('/docs/json')) void reply.redirect('/openapi.json', 308);
        else if (route.endsWith('/docs/yaml')) reply.callNotFound();
        else done();
      },
    },
  });
}

const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="24"><text x="0" y="19" font-family="sans-serif" font-size="20" fill="#fff">Ras</text></svg>';

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
};

const ENVELOPE = {
  title: 'Envelope',
  type: 'object',
  required: ['status_code', 'message'],
  properties: { status_code: { type: 'integer' }, message: { type: 'string' } },
};

/** What any request with a body can get, whatever the route. */
const BODY_ANSWERS: Record<string, { description: string; messages: string[] }> = {
  '400': {
    description: 'The body is not valid JSON, or a field is missing',
    messages: [MESSAGES.malformedJson],
  },
  '413': { description: 'The body is larger than BODY_LIMIT', messages: [MESSAGES.bodyTooLarge] },
  '415': {
    description: 'The body is neither JSON nor a urlencoded form',
    messages: [MESSAGES.unsupportedMediaType],
  },
};

const UNAVAILABLE = {
  description: 'The database (or Redis) does not answer; retry',
  messages: [MESSAGES.unavailable],
};

function finish(document: Json): Json {
  const schemas: Record<string, Json> = {};
  const paths = (document.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      operation.operationId ??= operationIdOf(method, path);
      operation.security ??= [];
      const required = requiredFieldOf(operation);
      finishRequestBody(operation, schemas);
      finishResponses(operation, required, schemas);
    }
  }
  const components = (document.components ?? {}) as Json;
  components.schemas = { ...(components.schemas as Json | undefined), ...sortedByName(schemas) };
  document.components = components;
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

function finishRequestBody(operation: Json, schemas: Record<string, Json>): void {
  const content = (operation.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)
    ?.content;
  const schema = content?.['application/json']?.schema;
  if (!content || !schema) return;
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  for (const property of Object.values(properties)) {
    if (property[LENIENT] === undefined) continue;
    property.type = property[LENIENT];
    delete property[LENIENT];
  }
  schema.additionalProperties = false;
  const named = hoist(schema, schemas);
  content['application/json'] = { schema: named };
  content['application/x-www-form-urlencoded'] = { schema: named };
}

function finishResponses(operation: Json, required: string | undefined, schemas: Record<string, Json>): void {
  const responses = (operation.responses ?? {}) as Record<string, Json>;
  if (operation.requestBody) {
    for (const [status, answer] of Object.entries(BODY_ANSWERS)) {
      const messages =
        status === '400' && required ? [...answer.messages, `${required} is required`] : answer.messages;
      addAnswer(responses, status, answer.description, messages);
    }
  }
  addAnswer(responses, '503', UNAVAILABLE.description, UNAVAILABLE.messages);
  if (!Object.keys(responses).some((status) => status.startsWith('4'))) {
    addAnswer(responses, '429', 'Too many requests from this address', [MESSAGES.rateLimited]);
  }
  if (responses['429']) responses['429'].headers = { ...RETRY_AFTER, ...(responses['429'].headers as Json) };
  for (const [status, response] of Object.entries(responses)) finishResponse(status, response, schemas);
  operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/** Adds an envelope answer, or its messages to the answer the route already declares for that status. */
function addAnswer(responses: Record<string, Json>, status: string, description: string, messages: string[]) {
  const schema = jsonSchemaOf(responses[status]);
  if (!schema) {
    responses[status] = {
      description,
      content: { 'application/json': { schema: { ...ENVELOPE, examples: messages } } },
    };
    return;
  }
  const examples = Array.isArray(schema.examples) ? (schema.examples as unknown[]) : [];
  schema.examples = [...examples, ...messages.filter((m) => !examples.includes(m))];
}

/** Moves the schema's examples beside it (an envelope's message gets the response's status) and names it. */
function finishResponse(status: string, response: Json, schemas: Record<string, Json>): void {
  const media = (response.content as Record<string, Json> | undefined)?.['application/json'];
  const schema = media?.schema as Json | undefined;
  if (!media || !schema) return;
  const own: unknown[] = Array.isArray(schema.examples) ? (schema.examples as unknown[]) : [];
  const examples: unknown[] = [...examplesOf(media), ...own];
  delete media.example;
  delete media.examples;
  if (examples.length > 0) {
    media.examples = Object.fromEntries(
      examples.map((example, i) => {
        const value: unknown =
          typeof example === 'string' ? { status_code: Number(status), message: example } : example;
        return [`${status}-${i + 1}`, { summary: summaryOf(value, response.description), value }];
      }),
    );
  }
  const named = hoist(schema, schemas);
  delete named.description; // the response's own, already beside it
  media.schema = named;
}

/** @fastify/swagger has already moved a route's `examples` beside the schema: gather them back. */
function examplesOf(media: Json): unknown[] {
  if (media.example !== undefined) return [media.example];
  return Object.values((media.examples ?? {}) as Record<string, { value: unknown }>).map((e) => e.value);
}

function summaryOf(value: unknown, fallback: unknown): string {
  const body = value as { message?: unknown; detail?: unknown };
  const text = body.message ?? body.detail ?? fallback;
  return typeof text === 'string' ? text : 'Example';
}

/**
 * Replaces every titled schema inside `schema` by a `$ref` to `components.schemas[title]`; its description stays
 * beside the reference. Two different schemas under one title are a mistake in the routes, caught here.
 */
function hoist(schema: Json, schemas: Record<string, Json>): Json {
  const { title, description, ...rest } = schema;
  delete rest.examples;
  const inner = mapChildren(rest, (child) => hoist(child, schemas));
  if (typeof title !== 'string') {
    return description === undefined ? inner : { description, ...inner };
  }
  const existing = schemas[title];
  if (existing && JSON.stringify(existing) !== JSON.stringify(inner))
    throw new Error(`two different schemas are named ${title} in the routes`);
  schemas[title] = inner;
  const ref = { $ref: `#/components/schemas/${title}` };
  return description === undefined ? ref : { ...ref, description };
}

function mapChildren(schema: Json, map: (child: Json) => Json): Json {
  const out: Json = { ...schema };
  if (schema.properties)
    out.properties = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Json>).map(([k, v]) => [k, map(v)]),
    );
  if (schema.items && typeof schema.items === 'object') out.items = map(schema.items as Json);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
    if (Array.isArray(schema[key])) out[key] = (schema[key] as Json[]).map(map);
  return out;
}

/** The JSON schema of a response or a request body. */
function jsonSchemaOf(responseOrBody: Json | undefined): Json | undefined {
  return (responseOrBody?.content as Record<string, { schema?: Json }> | undefined)?.['application/json']
    ?.schema;
}

/** The first field a body must have: a missing one is "<field> is required". */
function requiredFieldOf(operation: Json): string | undefined {
  const required = jsonSchemaOf(operation.requestBody as Json | undefined)?.required;
  return Array.isArray(required) && typeof required[0] === 'string' ? required[0] : undefined;
}

function sortedByName(schemas: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
}
