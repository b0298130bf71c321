/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The account page as a person uses it: real Chromium (Debian's, through playwright-core), a real server on a
 * real SQLite file, and Chromium's own virtual authenticator (the DevTools protocol's WebAuthn domain) as the
 * person's passkey device. Screenshots of the main views go to docs/screenshots/ (shown in the README).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deactivateAccount } from '../../src/accounts/deactivation.js';
import { ACCOUNT_PAGE_CSP } from '../../src/http/account-page.js';
import { timeStep, totpCode } from '../../src/crypto/totp.js';
import { freePort } from '../e2e/processes.js';
import { buildTestApp, OPERATOR, PASSWORD, TEST_MFA_KEY, uniqueEmail } from '../helpers.js';
import { describeInChromium, launchChromium } from './chromium.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** Waits for what the page shows: generously, as a loaded CI machine hashes passwords slowly. */
const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000 });

describeInChromium('the account page, in Chromium', () => {
  let app: FastifyInstance;
  let browser: Browser;
  let origin: string;
  let dir: string;
  // A fixed start, so the times the page shows (and the screenshots) are the same on every run.
  let clock = Date.parse('2026-12-01T09:30:00Z');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ras-page-'));
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = await freePort();
    origin = `http://localhost:${port}`;
    app = await buildTestApp(
      `sqlite://${join(dir, 'ras.db')}`,
      { MFA_KEY: TEST_MFA_KEY, PORT: String(port), WEBAUTHN_ORIGINS: origin },
      { now: () => clock },
    );
    await app.listen({ host: 'localhost', port });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A new browser profile on the page with a virtual passkey device (user verification on, presence
   * automatic). Every request the page makes and every CSP complaint is recorded: `done()` checks none went
   * to another host and none was refused.
   */
  async function openPage(viewport = DESKTOP) {
    const context = await browser.newContext({ viewport, locale: 'en-GB', timezoneId: 'UTC' });
    const page = await context.newPage();
    const requests: string[] = [];
    const refusals: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refusals.push(message.text());
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const answer = await page.goto(`${origin}/account/`);
    expect(answer?.status()).toBe(200);
    const credentials = async () =>
      (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    const done = async () => {
      expect(requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
      expect(refusals).toEqual([]);
      await context.close();
    };
    return { page, credentials, done };
  }

  const status = (page: Page) => page.getByRole('status');
  const alert = (page: Page) => page.getByRole('alert');

  async function signUp(page: Page, email = uniqueEmail('page')): Promise<string> {
    await page.getByText('Create an account').click();
    const form = page.locator('#sign-up-form');
    await form.getByRole('textbox', { name: 'Email' }).fill(email);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.locator('#account-email').textContent()).toBe(email);
    return email;
  }

  async function signInWithPassword(page: Page, email: string): Promise<void> {
    const form = page.locator('#sign-in-form');
    await form.getByRole('textbox', { name: 'Email' }).fill(email);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign in' }).click();
  }

  async function addPasskey(page: Page, name: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Name of the new passkey' }).fill(name);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await eventually(() => status(page).textContent()).toBe(`Passkey “${name}” added.`);
  }

  async function signOut(page: Page): Promise<void> {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await eventually(() => status(page).textContent()).toBe('You are signed out.');
  }

  const signedInAs = (page: Page) => page.locator('#signed-in:not([hidden]) #account-email').textContent();

  it('signs up, enrols a passkey, signs out, and signs in with the passkey alone', async () => {
    const { page, credentials, done } = await openPage();
    const answer = await page.request.get(`${origin}/account/`);
    expect(answer.headers()['content-security-policy']).toBe(ACCOUNT_PAGE_CSP);
    expect(ACCOUNT_PAGE_CSP).not.toContain('unsafe-inline');
    expect(ACCOUNT_PAGE_CSP).toContain("script-src 'self'");
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-desktop.png'), fullPage: true });

    const email = await signUp(page, 'ada@example.com');
    await addPasskey(page, 'Laptop');
    await eventually(() => page.locator('#passkey-list').textContent()).toContain('Laptop');
    const [credential] = await credentials();
    expect(credential).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
    await page.screenshot({ path: join(SCREENSHOTS, 'account-desktop.png'), fullPage: true });

    await signOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await eventually(() => status(page).textContent()).toBe('You are signed in with your passkey.');
    expect(await signedInAs(page)).toBe(email);
    await done();
  });

  it('enrols TOTP from the page (reading the secret it shows) and completes a two-step sign-in', async () => {
    const { page, done } = await openPage();
    const email = await signUp(page, 'grace@example.com');
    await page.locator('#totp-enrol-form').getByLabel('Your password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    await eventually(() => page.locator('#totp-qr svg').count()).toBe(1);
    await expect(
      page.getByRole('img', { name: 'QR code for your authenticator app' }).isVisible(),
    ).resolves.toBe(true);
    const secret = (await page.locator('#totp-secret').textContent())!;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'totp-setup-desktop.png'), fullPage: true });
    await page.getByRole('textbox', { name: 'Code from the app' }).fill(totpCode(secret, timeStep(clock)));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await eventually(() => page.locator('#recovery-code-list li').count()).toBe(10);

    await signOut(page);
    await signInWithPassword(page, email);
    await eventually(() => page.locator('#second-step').isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'second-step-desktop.png'), fullPage: true });
    clock += 30_000; // the next code: the one that confirmed is used up
    await page.getByRole('textbox', { name: 'Code from your authenticator app' }).fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await eventually(() => alert(page).textContent()).toBe('That code is not right. Please try again.');
    await page
      .getByRole('textbox', { name: 'Code from your authenticator app' })
      .fill(totpCode(secret, timeStep(clock)));
    await page.getByRole('button', { name: 'Verify' }).click();
    await eventually(() => signedInAs(page)).toBe(email);
    await done();
  });

  it('uses a passkey as the second step; once removed, it signs in nowhere', async () => {
    const { page, done } = await openPage();
    const email = await signUp(page);
    await addPasskey(page, 'Phone');
    await signOut(page);

    await signInWithPassword(page, email);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await eventually(() => signedInAs(page)).toBe(email);

    await page.getByRole('button', { name: 'Remove passkey Phone' }).click();
    await eventually(() => status(page).textContent()).toBe('Passkey “Phone” removed.');
    await eventually(() => page.locator('#passkey-list').textContent()).toContain('No passkey yet');
    await signOut(page);
    // The device still holds the credential; the server no longer knows it.
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await eventually(() => alert(page).textContent()).toBe('the passkey could not be verified');
    // And the password alone signs in again, with no second step.
    await signInWithPassword(page, email);
    await eventually(() => signedInAs(page)).toBe(email);
    await done();
  });

  it('a deactivated account cannot sign in with its passkey and is told so', async () => {
    const { page, done } = await openPage();
    const email = await signUp(page);
    await addPasskey(page, 'Key');
    await signOut(page);
    const user = await app.accounts.store.users.findUserByEmail(email);
    expect(await deactivateAccount(app.accounts, user!.id, OPERATOR)).toBe(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await eventually(() => alert(page).textContent()).toBe('This account has been deactivated');
    expect(await page.locator('#signed-in').isHidden()).toBe(true);
    await done();
  });

  it('ends another session, changes the password, asks for a reset and deletes the account', async () => {
    const { page, done } = await openPage();
    const email = 'hedy@example.com';
    const inject = (url: string, payload: object) => app.inject({ method: 'POST', url, payload });
    expect((await inject('/api/v1/users/signup/', { email, password: PASSWORD })).statusCode).toBe(201);
    expect((await inject('/api/v1/users/login/', { email, password: PASSWORD })).statusCode).toBe(200);
    await signInWithPassword(page, email);
    await eventually(() => signedInAs(page)).toBe(email);
    const sessions = page.locator('#session-list li');
    await eventually(() => sessions.count()).toBe(3);
    await page
      .getByRole('button', { name: /^Sign out session \d+$/ })
      .first()
      .click();
    await eventually(() => status(page).textContent()).toBe('That session has ended.');
    await eventually(() => sessions.count()).toBe(2);

    const newPassword = 'a brand new passphrase';
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await eventually(() => status(page).textContent()).toBe(
      'Your password has changed. Every other session has ended.',
    );
    await eventually(() => sessions.count()).toBe(1);

    await signOut(page);
    await page.getByText('Forgot your password?').click();
    await page.locator('#reset-form').getByRole('textbox', { name: 'Email' }).fill(email);
    await page.getByRole('button', { name: 'Send a reset link' }).click();
    // This server has no SMTP_URL: the page says what the API answers.
    await eventually(() => alert(page).textContent()).toBe('email delivery is not configured');

    const form = page.locator('#sign-in-form');
    await form.getByRole('textbox', { name: 'Email' }).fill(email);
    await form.getByLabel('Password').fill(newPassword);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => signedInAs(page)).toBe(email);
    await page.locator('#delete-form').getByLabel('Your password').fill(newPassword);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await eventually(() => status(page).textContent()).toBe('Your account has been deleted.');
    await form.getByRole('textbox', { name: 'Email' }).fill(email);
    await form.getByLabel('Password').fill(newPassword);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => alert(page).textContent()).toBe('Invalid username or password');
    await done();
  });

  it('has no serious or critical accessibility violation, signed out or in', async () => {
    const { page, done } = await openPage();
    const seriousOf = async () =>
      (await new AxeBuilder({ page }).analyze()).violations
        .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
        .map((violation) => `${violation.id}: ${violation.help}`);
    expect(await seriousOf()).toEqual([]);
    await page.getByText('Create an account').click();
    await page.getByText('Forgot your password?').click();
    expect(await seriousOf()).toEqual([]);
    await page.reload();
    await signUp(page);
    await addPasskey(page, 'Laptop');
    expect(await seriousOf()).toEqual([]);
    await done();
  });

  it('completes the sign-in form with the keyboard alone, the focus always visible', async () => {
    const { page, done } = await openPage();
    const email = await signUp(page);
    await signOut(page);
    await page.reload();
    // Every password field is masked and named for password managers (nothing blocks paste).
    const passwordFields = await page.evaluate(() =>
      [...document.querySelectorAll('input')]
        .filter((input) => input.autocomplete.includes('password'))
        .map((input) => input.type),
    );
    expect(passwordFields.length).toBeGreaterThanOrEqual(7);
    expect(new Set(passwordFields)).toEqual(new Set(['password']));
    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        const style = element && getComputedStyle(element);
        return { id: element?.id ?? '', outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '' };
      });
    let presses = 0;
    while ((await focused()).id !== 'sign-in-email' && presses++ < 5) await page.keyboard.press('Tab');
    expect((await focused()).id).toBe('sign-in-email');
    expect((await focused()).outline).toBe('solid 3px');
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    expect((await focused()).id).toBe('sign-in-password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign in');
    expect((await focused()).outline).toBe('solid 3px');
    await page.keyboard.press('Enter');
    await eventually(() => signedInAs(page)).toBe(email);
    // Focus moves to the signed-in view once it is drawn.
    await eventually(async () => (await focused()).id).toBe('sign-out');
    await done();
  });

  it('reads on a phone: screenshots of the main views at 390 px', async () => {
    const { page, done } = await openPage(PHONE);
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in-phone.png'), fullPage: true });
    await signUp(page, 'katherine@example.com');
    await addPasskey(page, 'This phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'account-phone.png'), fullPage: true });
    await done();
  });
});
