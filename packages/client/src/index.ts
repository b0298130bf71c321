/**
 * `ras/client`: a typed client of the Ras API for TypeScript callers, made with openapi-fetch from types that
 * openapi-typescript generated from the OpenAPI document (`api.ts`; `client.test.ts` fails when they drift
 * from the document the server serves). The token is handled for the caller: signup, login (password, second
 * step or passkey), a password change and a reset answer one, the client keeps it and sends it as
 * `Authorization: Token …`; a logout forgets it.
 *
 *   const ras = createRasClient('https://accounts.example.com');
 *   const { data } = await ras.api.POST('/api/v1/users/login/', { body: { email, password } });
 *   await ras.api.GET('/api/v1/users/{userid}/', { params: { path: { userid: String(data!.result.id) } } });
 */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './api.js';

export type { components, paths } from './api.js';

/** The document's named schemas, for callers' own signatures. */
export type Schemas = components['schemas'];
export type User = Schemas['User'];
export type SignedIn = Schemas['SignedIn'];
export type Session = Schemas['Session'];
export type Envelope = Schemas['Envelope'];

export interface RasClient {
  /** Every route, typed: `api.POST('/api/v1/users/signup/', { body })`, `api.GET('/api/v1/users/{userid}/', …)`. */
  api: Client<paths>;
  /** The token sent with each request; set by signup, login and password change, cleared by logout. */
  token: string | undefined;
}

const ISSUE_TOKENS = new Set([
  '/api/v1/users/signup/',
  '/api/v1/users/login/',
  '/api/v1/users/login/mfa/',
  '/api/v1/users/login/passkey/',
  '/api/v1/users/{userid}/password/',
]);
const END_TOKEN = new Set(['/api/v1/users/{userid}/logout/', '/api/v1/users/{userid}/logout/all/']);

export function createRasClient(
  baseUrl: string,
  options: { token?: string; fetch?: typeof globalThis.fetch } = {},
): RasClient {
  const api = createClient<paths>({ baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const client: RasClient = { api, token: options.token };
  const tokens: Middleware = {
    onRequest({ request }) {
      if (client.token && !request.headers.has('authorization'))
        request.headers.set('authorization', `Token ${client.token}`);
      return request;
    },
    async onResponse({ schemaPath, response }) {
      if (!response.ok) return response;
      if (END_TOKEN.has(schemaPath)) client.token = undefined;
      if (ISSUE_TOKENS.has(schemaPath)) {
        const body = (await response.clone().json()) as { result?: { auth_token?: unknown } };
        if (typeof body.result?.auth_token === 'string') client.token = body.result.auth_token;
      }
      return response;
    },
  };
  api.use(tokens);
  return client;
}
