import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { VERSION } from '../version.js';
import { guardedLookup, parseWebhookUrl } from './targets.js';

export const SEND_TIMEOUT_MS = 10_000;

/** What a delivery attempt came to: a 2xx, or why not. */
export type SendOutcome = { ok: true; status: number } | { ok: false; reason: string };

/**
 * POSTs one signed body. Redirects are not followed (a 3xx is a failure): a redirect could lead anywhere. The
 * whole exchange (connect, send, answer) must end within SEND_TIMEOUT_MS.
 */
export function sendWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  allowPrivate: boolean,
): Promise<SendOutcome> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = parseWebhookUrl(target, allowPrivate);
    } catch (error) {
      resolve({ ok: false, reason: (error as Error).message });
      return;
    }
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      lookup: guardedLookup(allowPrivate),
      headers: {
        ...headers,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': `Ras-Webhooks/${VERSION}`,
      },
    });
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${SEND_TIMEOUT_MS / 1000} s`)),
      SEND_TIMEOUT_MS,
    );
    request.once('response', (response) => {
      response.resume();
      response.once('end', () => {
        clearTimeout(timer);
        const status = response.statusCode ?? 0;
        resolve(
          status >= 200 && status < 300 ? { ok: true, status } : { ok: false, reason: `HTTP ${status}` },
        );
      });
      response.once('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, reason: error.message });
      });
    });
    request.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: error.message });
    });
    request.end(body);
  });
}
