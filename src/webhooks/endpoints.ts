/**
 * Webhook endpoints, as `ras webhooks …` manages them. An endpoint is a URL (checked: see targets.ts), the event
 * patterns it wants, and a `whsec_…` signing secret shown once when it is added and stored sealed with MFA_KEY
 * (it must be read back to sign, so a hash would not do).
 */
import { randomBytes } from 'node:crypto';
import { isEventPattern } from '../accounts/events.js';
import type { Store, WebhookEndpoint } from '../accounts/storage.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { checkWebhookTarget, WebhookTargetError } from './targets.js';

export interface NewWebhook {
  url: string;
  /** Event patterns; all events when empty. */
  events: string[];
}

/** Adds an endpoint; returns it with its secret (the only time the secret is shown). */
export async function addWebhook(
  store: Store,
  box: SecretBox | null,
  input: NewWebhook,
  options: { allowPrivate: boolean; now: number },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  if (!box)
    throw new WebhookTargetError(
      'MFA_KEY is not set: webhook secrets are sealed with it (make one with `openssl rand -base64 32`)',
    );
  const events = input.events.length > 0 ? [...new Set(input.events)] : ['*'];
  const unknown = events.filter((pattern) => !isEventPattern(pattern));
  if (unknown.length > 0)
    throw new WebhookTargetError(`unknown event pattern(s): ${unknown.join(', ')} (see README, "Events")`);
  const url = await checkWebhookTarget(input.url, options.allowPrivate);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const endpoint = { url: url.href, events, createdAt: options.now };
  const id = await store.webhooks.addEndpoint({ ...endpoint, secretSealed: box.seal(secret, 'webhook') });
  return { endpoint: { id, ...endpoint, failingSince: null, disabledAt: null }, secret };
}

/** An endpoint as `ras webhooks list` shows it: never its secret. */
export function webhookView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    created_at: new Date(endpoint.createdAt).toISOString(),
    failing_since: endpoint.failingSince === null ? null : new Date(endpoint.failingSince).toISOString(),
    disabled_at: endpoint.disabledAt === null ? null : new Date(endpoint.disabledAt).toISOString(),
  };
}
