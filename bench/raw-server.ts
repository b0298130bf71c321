/**
 * The ceiling: node:http answering the authenticated GET with the same JSON body and headers Ras sends, and
 * nothing else: no framework, no database, no hashing. Whatever Ras does on top is measured against this.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const body = JSON.stringify({ id: 1, email: 'bench@example.com', auth_token: `ras_${'x'.repeat(43)}` });
const ROUTE = /^\/api\/v1\/users\/\d+\/?$/;

const server = createServer((request, response) => {
  if (request.method === 'GET' && ROUTE.test(request.url ?? '') && request.headers.authorization) {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(body);
    return;
  }
  response.writeHead(404).end();
});
server.keepAliveTimeout = 5000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`raw server listening on ${typeof address === 'object' && address ? address.port : port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
