/**
 * The account page: a person's own account through the same public API every client uses (`@ras/client`),
 * with passkeys through `@simplewebauthn/browser` and the TOTP QR code drawn by `qrcode`. The session token
 * lives only in this page's memory (the client object): no cookie, no storage a script could read later, and
 * nothing for another site to ride on; a reload signs out.
 */
import { createRasClient, type Schemas } from '@ras/client';
import {
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
} from '@simplewebauthn/browser';
import QRCode from 'qrcode';

const ras = createRasClient(window.location.origin);

interface SignedInUser {
  id: number;
  email: string;
}

let user: SignedInUser | null = null;
let mfaToken: string | null = null;

// ---- the page's parts ------------------------------------------------------------------------------------

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const views = {
  signedOut: element('signed-out'),
  secondStep: element('second-step'),
  signedIn: element('signed-in'),
};

function show(view: keyof typeof views): void {
  for (const [name, section] of Object.entries(views)) section.hidden = name !== view;
}

/** Moves focus to the first heading of what just appeared, so a screen reader reads where the person is. */
function focusHeading(view: keyof typeof views): void {
  const heading = views[view].querySelector<HTMLElement>('h2:not(.visually-hidden), h3');
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

function say(message: string): void {
  element('alert').textContent = '';
  element('status').textContent = message;
}

function warn(message: string): void {
  element('status').textContent = '';
  element('alert').textContent = message;
}

function quiet(): void {
  element('status').textContent = '';
  element('alert').textContent = '';
}

/** What the server said: its message (the envelope) or detail (DRF's shape). */
function messageOf(body: unknown, fallback = 'Something went wrong. Please try again.'): string {
  if (body && typeof body === 'object') {
    const { message, detail } = body as { message?: unknown; detail?: unknown };
    if (typeof message === 'string') return message;
    if (typeof detail === 'string') return detail;
  }
  return fallback;
}

function passkeyProblem(error: unknown): string {
  if (error instanceof Error && error.name === 'NotAllowedError')
    return 'The passkey request was cancelled or timed out.';
  if (error instanceof Error && error.name === 'InvalidStateError')
    return 'This device already holds a passkey for your account.';
  return 'This browser could not use a passkey here.';
}

/** Runs a form's action with its button disabled; the form is not sent the browser's way. */
function onSubmit(id: string, action: (form: HTMLFormElement) => Promise<void>): void {
  const form = element<HTMLFormElement>(id);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(form, () => action(form));
  });
}

function onClick(id: string, action: () => Promise<void>): void {
  const button = element<HTMLButtonElement>(id);
  button.addEventListener('click', () => void busy(button, action));
}

async function busy(control: HTMLElement, action: () => Promise<void>): Promise<void> {
  const buttons = control instanceof HTMLButtonElement ? [control] : [...control.querySelectorAll('button')];
  for (const button of buttons) button.disabled = true;
  quiet();
  try {
    await action();
  } catch {
    warn('The server could not be reached. Please try again.');
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

const valueOf = (id: string) => element<HTMLInputElement>(id).value;

function clear(...ids: string[]): void {
  for (const id of ids) element<HTMLInputElement>(id).value = '';
}

// ---- signing in ------------------------------------------------------------------------------------------

async function signedIn(who: SignedInUser, message: string): Promise<void> {
  user = who;
  mfaToken = null;
  element('account-email').textContent = who.email;
  clear('sign-in-password', 'sign-up-password', 'second-step-code', 'second-step-recovery-code');
  show('signedIn');
  say(message);
  await refresh();
  element('sign-out').focus();
}

function signedOut(message: string, isProblem = false): void {
  user = null;
  mfaToken = null;
  ras.token = undefined;
  show('signedOut');
  if (isProblem) warn(message);
  else say(message);
  focusHeading('signedOut');
}

onSubmit('sign-in-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/login/', {
    body: { email: valueOf('sign-in-email'), password: valueOf('sign-in-password') },
  });
  if (!data) return warn(messageOf(error));
  const result = data.result;
  if ('mfa_token' in result) return secondStep(result.mfa_token, result.methods);
  await signedIn(result, 'You are signed in.');
});

onClick('passkey-sign-in', async () => {
  const options = await ras.api.POST('/api/v1/users/login/passkey/options/', { body: {} });
  if (!options.data) return warn(messageOf(options.error));
  let response;
  try {
    response = await startAuthentication({
      optionsJSON: options.data.result,
    });
  } catch (problem) {
    return warn(passkeyProblem(problem));
  }
  const { data, error } = await ras.api.POST('/api/v1/users/login/passkey/', { body: { response } });
  if (!data) return warn(messageOf(error));
  await signedIn(data.result, 'You are signed in with your passkey.');
});

onSubmit('sign-up-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/signup/', {
    body: { email: valueOf('sign-up-email'), password: valueOf('sign-up-password') },
  });
  if (!data) return warn(messageOf(error));
  await signedIn(data.result, 'Your account is ready.');
});

onSubmit('reset-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/password/reset/', {
    body: { email: valueOf('reset-email') },
  });
  if (!data) return warn(messageOf(error));
  say(data.message);
});

// ---- the second step -------------------------------------------------------------------------------------

function secondStep(token: string, methods: string[]): void {
  mfaToken = token;
  element('second-step-totp').hidden = !methods.includes('totp');
  element('second-step-recovery').hidden = !methods.includes('recovery_code');
  element('second-step-passkey').hidden = !methods.includes('webauthn');
  show('secondStep');
  focusHeading('secondStep');
}

async function completeSecondStep(
  body: { code: string } | { recovery_code: string } | { webauthn: unknown },
): Promise<void> {
  if (!mfaToken) return signedOut('Please sign in again.', true);
  const { data, error } = await ras.api.POST('/api/v1/users/login/mfa/', {
    body: { mfa_token: mfaToken, ...body },
  });
  if (!data) {
    const message = messageOf(error);
    if (message === 'invalid or expired token')
      return signedOut('That took too long. Please sign in again.', true);
    return warn(message === 'invalid code' ? 'That code is not right. Please try again.' : message);
  }
  await signedIn(data.result, 'You are signed in.');
}

onSubmit('second-step-totp', () => completeSecondStep({ code: valueOf('second-step-code') }));
onSubmit('second-step-recovery-form', () =>
  completeSecondStep({ recovery_code: valueOf('second-step-recovery-code') }),
);

onClick('second-step-passkey', async () => {
  if (!mfaToken) return signedOut('Please sign in again.', true);
  const options = await ras.api.POST('/api/v1/users/login/mfa/options/', { body: { mfa_token: mfaToken } });
  if (!options.data) return warn(messageOf(options.error));
  try {
    const webauthn = await startAuthentication({
      optionsJSON: options.data.result,
    });
    await completeSecondStep({ webauthn });
  } catch (problem) {
    warn(passkeyProblem(problem));
  }
});

onClick('second-step-cancel', async () => signedOut('Signing in was cancelled.'));

// ---- the signed-in view ----------------------------------------------------------------------------------

function path(): { userid: string } {
  if (!user) throw new Error('not signed in');
  return { userid: String(user.id) };
}

/** Reads the account's factors and sessions and draws them. */
async function refresh(): Promise<void> {
  const [factors, sessions] = await Promise.all([
    ras.api.GET('/api/v1/users/{userid}/mfa/', { params: { path: path() } }),
    ras.api.GET('/api/v1/users/{userid}/sessions/', { params: { path: path() } }),
  ]);
  if (!factors.data || !sessions.data) {
    if (factors.response.status === 401)
      return signedOut('Your session has ended. Please sign in again.', true);
    return warn(messageOf(factors.error ?? sessions.error));
  }
  drawPasskeys(factors.data.result.passkeys);
  drawTotp(factors.data.result.totp, factors.data.result.recovery_codes_left);
  drawSessions(sessions.data.result);
}

function when(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A list item: a label, a detail line, and an optional button. */
function item(
  label: string,
  detail: string,
  button?: { text: string; name: string; action: () => Promise<void> },
) {
  const li = document.createElement('li');
  const text = document.createElement('span');
  const strong = document.createElement('strong');
  strong.textContent = label;
  const small = document.createElement('span');
  small.className = 'detail';
  small.textContent = detail;
  text.append(strong, small);
  li.append(text);
  if (button) {
    const control = document.createElement('button');
    control.type = 'button';
    control.className = 'link';
    control.textContent = button.text;
    control.setAttribute('aria-label', button.name);
    control.addEventListener('click', () => void busy(control, button.action));
    li.append(control);
  }
  return li;
}

type PasskeyView = { id: number; name: string; created_at: string; last_used_at: string | null };

function drawPasskeys(passkeys: PasskeyView[]): void {
  const list = element('passkey-list');
  list.replaceChildren(
    ...passkeys.map((passkey) =>
      item(
        passkey.name,
        `Added ${when(passkey.created_at)}${passkey.last_used_at ? `, last used ${when(passkey.last_used_at)}` : ', not used yet'}`,
        { text: 'Remove', name: `Remove passkey ${passkey.name}`, action: () => removePasskey(passkey) },
      ),
    ),
  );
  if (passkeys.length === 0) list.append(item('No passkey yet', 'Add one to sign in without your password.'));
}

async function removePasskey(passkey: PasskeyView): Promise<void> {
  const { error } = await ras.api.DELETE('/api/v1/users/{userid}/passkeys/{passkeyid}/', {
    params: { path: { ...path(), passkeyid: String(passkey.id) } },
  });
  if (error) return warn(messageOf(error));
  say(`Passkey “${passkey.name}” removed.`);
  await refresh();
  element('passkey-name').focus();
}

onSubmit('passkey-add-form', async () => {
  const options = await ras.api.POST('/api/v1/users/{userid}/passkeys/options/', {
    params: { path: path() },
  });
  if (!options.data) return warn(messageOf(options.error));
  let response;
  try {
    response = await startRegistration({
      optionsJSON: options.data.result as unknown as PublicKeyCredentialCreationOptionsJSON,
    });
  } catch (problem) {
    return warn(passkeyProblem(problem));
  }
  const name = valueOf('passkey-name').trim() || undefined;
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/passkeys/', {
    params: { path: path() },
    body: { name, response },
  });
  if (!data) return warn(messageOf(error));
  clear('passkey-name');
  say(`Passkey “${data.result.name}” added.`);
  await refresh();
});

function drawTotp(enabled: boolean, recoveryCodesLeft: number): void {
  element('totp-state').textContent = enabled
    ? `On. ${recoveryCodesLeft} recovery code${recoveryCodesLeft === 1 ? '' : 's'} left.`
    : 'Off. Use an app such as a password manager or an authenticator to add a second step at sign-in.';
  element('totp-enrol-form').hidden = enabled;
  element('totp-disable-form').hidden = !enabled;
  if (enabled) element('totp-setup').hidden = true;
}

onSubmit('totp-enrol-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/mfa/totp/', {
    params: { path: path() },
    body: { password: valueOf('totp-enrol-password') },
  });
  if (!data) return warn(messageOf(error));
  clear('totp-enrol-password');
  const svg = await QRCode.toString(data.result.otpauth_url, { type: 'svg', margin: 1 });
  const drawing = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
  drawing.setAttribute('aria-hidden', 'true');
  element('totp-qr').replaceChildren(document.importNode(drawing, true));
  element('totp-secret').textContent = data.result.secret;
  element('recovery-codes').hidden = true;
  element('totp-enrol-form').hidden = true;
  element('totp-setup').hidden = false;
  say('Scan the code, then type the code your app shows.');
  element('totp-confirm-code').focus();
});

onSubmit('totp-confirm-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/mfa/totp/confirm/', {
    params: { path: path() },
    body: { code: valueOf('totp-confirm-code').replace(/\s/g, '') },
  });
  if (!data)
    return warn(
      messageOf(error) === 'invalid code' ? 'That code is not right. Please try again.' : messageOf(error),
    );
  clear('totp-confirm-code');
  element('totp-setup').hidden = true;
  element('recovery-code-list').replaceChildren(
    ...data.result.recovery_codes.map((code) => {
      const li = document.createElement('li');
      li.textContent = code;
      return li;
    }),
  );
  element('recovery-codes').hidden = false;
  say('Two-step sign-in is on. Save your recovery codes now.');
  await refresh();
});

onSubmit('totp-disable-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/mfa/totp/disable/', {
    params: { path: path() },
    body: { password: valueOf('totp-disable-password'), code: valueOf('totp-disable-code') },
  });
  if (!data) return warn(messageOf(error));
  clear('totp-disable-password', 'totp-disable-code');
  element('recovery-codes').hidden = true;
  say('The authenticator app is no longer asked for.');
  await refresh();
});

function drawSessions(sessions: Schemas['Session'][]): void {
  element('session-list').replaceChildren(
    ...sessions.map((session) => {
      const where = [session.user_agent ?? 'Unknown browser', session.ip].filter(Boolean).join(' · ');
      const detail = `Signed in ${when(session.created_at)}; ${where}`;
      if (session.current) return item('This browser', detail);
      return item(`Session ${session.id}`, detail, {
        text: 'Sign out',
        name: `Sign out session ${session.id}`,
        action: () => revokeSession(session.id),
      });
    }),
  );
}

async function revokeSession(id: number): Promise<void> {
  const { error } = await ras.api.DELETE('/api/v1/users/{userid}/sessions/{sessionid}/', {
    params: { path: { ...path(), sessionid: String(id) } },
  });
  if (error) return warn(messageOf(error));
  say('That session has ended.');
  await refresh();
  element('sessions-title').focus();
}

onSubmit('password-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/password/', {
    params: { path: path() },
    body: { current_password: valueOf('password-current'), new_password: valueOf('password-new') },
  });
  if (!data) return warn(messageOf(error));
  clear('password-current', 'password-new');
  say('Your password has changed. Every other session has ended.');
  await refresh();
});

onSubmit('delete-form', async () => {
  const { data, error } = await ras.api.POST('/api/v1/users/{userid}/delete/', {
    params: { path: path() },
    body: { password: valueOf('delete-password') },
  });
  if (!data) return warn(messageOf(error));
  clear('delete-password');
  signedOut('Your account has been deleted.');
});

onClick('sign-out', async () => {
  await ras.api.POST('/api/v1/users/{userid}/logout/', { params: { path: path() } });
  signedOut('You are signed out.');
});

show('signedOut');
