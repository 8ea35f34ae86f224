import { buffer } from 'node:stream/consumers';
import {
  ageCipher,
  createEngine,
  HISTORY_PREFIX,
  LifeboatError,
  memoryStorage,
  type Source,
} from '@lifeboat/core';
import { rejectionOf } from '@lifeboat/core/testing';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';

/** A source whose table names and failure messages are what a history must not show. */
function shopSource(failWith?: string) {
  return {
    id: 'shop',
    section: 'database',
    describe: () => 'shop',
    async connect() {},
    async close() {},
    async backup(ctx) {
      if (failWith) throw new LifeboatError('SOURCE_FAILED', failWith);
      const data = Buffer.from('id,email\n1,alice@example.com\n');
      await ctx.emit({ path: 'users.csv', type: 'file', size: data.length, body: data });
      return { tables: [{ name: 'secret_schema.patients_hiv_status', rows: 1 }] };
    },
    async restore() {
      return {};
    },
    report: (summary) => ({ tables: summary.tables as { name: string; rows: number }[] }),
  } satisfies Source;
}

const storedRecords = async (storage: ReturnType<typeof memoryStorage>) => {
  const texts: string[] = [];
  for (const o of await storage.list(HISTORY_PREFIX))
    texts.push((await buffer(await storage.get(o.key))).toString('utf8'));
  return texts.join('\n');
};

describe('history records of an encrypted setup', () => {
  it('are sealed like the index: open fields for health, details only with the identity', async () => {
    const identity = await generateIdentity();
    const recipient = await identityToRecipient(identity);
    const storage = memoryStorage();
    const backupHost = (failWith?: string) =>
      createEngine({
        sources: [shopSource(failWith)],
        storage,
        cipher: ageCipher({ recipients: [recipient] }),
      });
    await backupHost().backup();
    const failure = await rejectionOf(
      backupHost('duplicate key (email)=(bob@example.com)').backup(),
    );
    expect(failure.code).toBe('SOURCE_FAILED');

    const stored = await storedRecords(storage);
    expect(stored).toContain('"sealed"');
    expect(stored).not.toContain('patients_hiv_status');
    expect(stored).not.toContain('bob@example.com');

    // The backup host (recipients only) still sees what health and status need.
    const history = await backupHost().history();
    expect(history.map((r) => [r.kind, r.ok])).toEqual([
      ['backup', false],
      ['backup', true],
    ]);
    expect(history[0]!.error?.code).toBe('SOURCE_FAILED');
    expect(history[0]!.error?.message).not.toContain('bob@example.com');
    expect((await backupHost().status()).lastSuccess).toBeTruthy();

    // With the identity every detail is back.
    const withKey = createEngine({
      sources: [shopSource()],
      storage,
      cipher: ageCipher({ recipients: [recipient], identities: [identity] }),
    });
    const full = await withKey.history();
    expect(full[0]!.error?.message).toContain('bob@example.com');
    expect(full[1]!.tables).toEqual([{ name: 'secret_schema.patients_hiv_status', rows: 1 }]);
  });

  it('stay plain JSON without encryption', async () => {
    const storage = memoryStorage();
    await createEngine({ sources: [shopSource()], storage }).backup();
    expect(await storedRecords(storage)).toContain('patients_hiv_status');
  });
});
