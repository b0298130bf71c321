/**
 * The storage contract of accounts/storage.ts, one suite run against every store (as Kratos runs one persister
 * suite against every database): whatever a store is built on, the domain can rely on exactly this.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NewSession, Store } from '../accounts/storage.js';
import { hashToken } from '../crypto/tokens.js';
import { describeEachDatabase } from '../../test/helpers.js';
import { type Database, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';
import { KyselyStore } from './store.js';

const HOUR = 60 * 60_000;

describeEachDatabase('storage contract', (testDb) => {
  let database: Database;
  let store: Store;
  const now = Date.now();
  beforeAll(async () => {
    database = await openDatabase(testDb.url());
    await migrateToLatest(database.db);
    store = new KyselyStore(database.db);
  });
  afterAll(() => database.close());

  const newUser = async (email = `${randomUUID()}@example.com`) => {
    const id = await store.users.insertUser({ email, passwordHash: 'hash-0', dateJoined: now });
    if (id === undefined) throw new Error('not inserted');
    return { id, email, checked: { userId: id, credentialsVersion: 0 } };
  };
  const session = (token: string, over: Partial<NewSession> = {}): NewSession => ({
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: now + HOUR,
    userAgent: 'ua',
    ip: '192.0.2.1',
    ...over,
  });

  it('inserts a user once per email; the unique index decides', async () => {
    const { email } = await newUser();
    expect(await store.users.insertUser({ email, passwordHash: 'x', dateJoined: now })).toBeUndefined();
    const found = await store.users.findUserByEmail(email);
    expect(found).toMatchObject({ email, passwordHash: 'hash-0', isActive: true, credentialsVersion: 0 });
    expect(await store.users.findUserById(found!.id)).toEqual(found);
  });

  it('changes a password only for the version checked, raising it; a rehash never raises it', async () => {
    const { id, checked } = await newUser();
    await store.users.upgradePasswordHash(checked, 'rehashed');
    expect((await store.users.findUserById(id))?.passwordHash).toBe('rehashed');
    expect(await store.users.changePasswordHash(checked, 'changed', now)).toBe(1);
    expect(await store.users.changePasswordHash(checked, 'late', now)).toBeUndefined();
    await store.users.upgradePasswordHash(checked, 'late rehash');
    expect(await store.users.findUserById(id)).toMatchObject({
      passwordHash: 'changed',
      credentialsVersion: 1,
    });
  });

  it('raises the version on (de)activation, and opens a session only for an active user at the version checked', async () => {
    const { id, checked } = await newUser();
    expect(await store.sessions.openSession(session(randomUUID()), checked)).toBeGreaterThan(0);
    expect(await store.users.setUserActive(id, false)).toBe(true);
    expect(await store.sessions.openSession(session(randomUUID()), checked)).toBeUndefined();
    await store.users.setUserActive(id, true);
    expect(await store.sessions.openSession(session(randomUUID()), checked)).toBeUndefined();
    expect(
      await store.sessions.openSession(session(randomUUID()), { userId: id, credentialsVersion: 2 }),
    ).toBeDefined();
    expect(await store.users.setUserActive(2_000_000_000, false)).toBe(false);
  });

  it('finds a live session of an active user by its token hash, and only that', async () => {
    const { id, email, checked } = await newUser();
    const token = randomUUID();
    const sessionId = await store.sessions.openSession(session(token), checked);
    expect(await store.sessions.findActiveSessionByTokenHash(hashToken(token), now)).toMatchObject({
      sessionId,
      userId: id,
      email,
      expiresAt: now + HOUR,
    });
    expect(await store.sessions.findActiveSessionByTokenHash(hashToken(token), now + HOUR)).toBeUndefined();
    expect(await store.sessions.findActiveSessionByTokenHash(hashToken('unknown'), now)).toBeUndefined();
    await store.users.setUserActive(id, false);
    expect(await store.sessions.findActiveSessionByTokenHash(hashToken(token), now)).toBeUndefined();
  });

  it('deletes a session by token hash for exactly one caller, and only its own user’s by id', async () => {
    const a = await newUser();
    const b = await newUser();
    const token = randomUUID();
    const ofA = (await store.sessions.openSession(session(token), a.checked))!;
    expect(await store.sessions.deleteSessionOfUser(b.id, ofA)).toBe(false);
    const deletions = await Promise.all(
      [1, 2, 3].map(() => store.sessions.deleteSessionByTokenHash(hashToken(token))),
    );
    expect(deletions.filter(Boolean)).toHaveLength(1);
    const other = (await store.sessions.openSession(session(randomUUID()), a.checked))!;
    expect(await store.sessions.deleteSessionOfUser(a.id, other)).toBe(true);
  });

  it('lists live sessions newest first by pages, trims to the newest, deletes expired and all', async () => {
    const { id, checked } = await newUser();
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.sessions.openSession(session(randomUUID()), checked))!);
    await store.sessions.openSession(session(randomUUID(), { expiresAt: now - 1 }), checked);
    const first = await store.sessions.listActiveSessionsOfUser(id, now, { limit: 2 });
    expect(first.map((s) => s.id)).toEqual([ids[4], ids[3]]);
    const next = await store.sessions.listActiveSessionsOfUser(id, now, { limit: 10, before: ids[3] });
    expect(next.map((s) => s.id)).toEqual([ids[2], ids[1], ids[0]]);
    await store.sessions.deleteExpiredSessionsOfUser(id, now);
    expect(await store.sessions.trimSessionsOfUser(id, 3)).toBe(2);
    const left = await store.sessions.listActiveSessionsOfUser(id, now, { limit: 10 });
    expect(left.map((s) => s.id)).toEqual([ids[4], ids[3], ids[2]]);
    await store.sessions.touchSession(ids[4]!, now + 5);
    expect((await store.sessions.listActiveSessionsOfUser(id, now, { limit: 1 }))[0]?.lastSeenAt).toBe(
      now + 5,
    );
    expect(await store.sessions.deleteSessionsOfUser(id)).toBe(3);
  });

  it('commits all of a transaction or none of it', async () => {
    const email = `${randomUUID()}@example.com`;
    await expect(
      store.transaction(async (tx) => {
        await tx.users.insertUser({ email, passwordHash: 'x', dateJoined: now });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await store.users.findUserByEmail(email)).toBeUndefined();
    await store.transaction((tx) => tx.users.insertUser({ email, passwordHash: 'x', dateJoined: now }));
    expect(await store.users.findUserByEmail(email)).toBeDefined();
  });

  it('answers ping while the schema is current', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
