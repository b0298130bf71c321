import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  type: string;
  /** The event, as the body's `data`. */
  event: { id: string; type: string; user_id: number | null; data: Record<string, unknown> };
  body: string;
}

/** How the receiver answers one request: a status, or never (the connection is held open). */
export type Answer = number | 'hang';

/**
 * A webhook receiver in the test process: a real HTTP server that verifies every delivery with the
 * `standardwebhooks` package, as a receiver in production would, and answers as `answer` says. A delivery that
 * fails verification is recorded in `rejected` and answered 400.
 */
export async function startWebhookReceiver(options: { answer?: (attempt: number) => Answer } = {}) {
  let secret: string | undefined;
  let attempt = 0;
  const received: ReceivedWebhook[] = [];
  const attempts: string[] = [];
  const rejected: string[] = [];
  const held = new Set<ServerResponse>();
  let answer = options.answer ?? (() => 200);
  const waiters: (() => void)[] = [];
  const notify = () => waiters.splice(0).forEach((wake) => wake());

  const handle = (request: IncomingMessage, response: ServerResponse, body: string) => {
    const id = String(request.headers['webhook-id']);
    attempts.push(id);
    const now = answer(++attempt);
    notify();
    if (now === 'hang') {
      held.add(response);
      response.once('close', () => held.delete(response));
      return;
    }
    try {
      if (!secret) throw new Error('no secret given to the receiver');
      const payload = new Webhook(secret).verify(body, request.headers as Record<string, string>) as {
        type: string;
        data: ReceivedWebhook['event'];
      };
      if (now >= 200 && now < 300) received.push({ id, type: payload.type, event: payload.data, body });
      response.writeHead(now).end();
    } catch (error) {
      rejected.push(`${id}: ${(error as Error).message}`);
      response.writeHead(400).end();
    }
    notify();
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    /** Every request's `webhook-id`, retries included, in arrival order. */
    attempts,
    rejected,
    /** Requests held open by `'hang'`. */
    held,
    useSecret(value: string) {
      secret = value;
    },
    answerWith(next: (attempt: number) => Answer) {
      answer = next;
    },
    /** Resolves once `condition` holds (checked at each request). */
    async until(condition: () => boolean): Promise<void> {
      while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
