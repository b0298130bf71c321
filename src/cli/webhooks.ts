import type { AccountsContext } from '../accounts/context.js';
import type { Config } from '../config.js';
import { addWebhook, webhookView } from '../webhooks/endpoints.js';
import { WebhookTargetError } from '../webhooks/targets.js';

/** `ras webhooks add`: checks the URL, stores the endpoint, prints its secret once. */
export async function addWebhookCommand(
  ctx: AccountsContext,
  config: Config,
  url: string,
  events: string[],
): Promise<void> {
  const { endpoint, secret } = await addWebhook(
    ctx.store,
    ctx.secrets,
    { url, events },
    { allowPrivate: config.webhookAllowPrivate, now: ctx.now() },
  );
  console.log(secret);
  console.error(
    `webhook ${endpoint.id} added for ${endpoint.events.join(',')} at ${endpoint.url}; ` +
      'the secret above is shown only now: give it to the receiver to verify signatures',
  );
}

export async function listWebhooksCommand(ctx: AccountsContext): Promise<void> {
  const endpoints = await ctx.store.webhooks.listEndpoints();
  if (endpoints.length === 0) console.error('no webhook endpoints');
  for (const endpoint of endpoints) console.log(JSON.stringify(webhookView(endpoint)));
}

export async function removeWebhookCommand(ctx: AccountsContext, id: number): Promise<void> {
  if (!(await ctx.store.webhooks.removeEndpoint(id)))
    throw new WebhookTargetError(`no webhook endpoint ${id}`);
  console.log(`webhook ${id} removed, with its undelivered events`);
}

export async function enableWebhookCommand(ctx: AccountsContext, id: number): Promise<void> {
  if (!(await ctx.store.webhooks.enableEndpoint(id)))
    throw new WebhookTargetError(`no webhook endpoint ${id}`);
  console.log(`webhook ${id} enabled; its waiting deliveries resume`);
}
