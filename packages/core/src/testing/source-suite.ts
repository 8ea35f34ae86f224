import { buffer } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnySource, Storage } from '../contracts.js';
import { INDEX_PREFIX } from '../engine/archive-index.js';
import { createEngine, type Engine } from '../engine/index.js';
import type { EngineRestoreOptions } from '../engine/restore.js';
import type { Manifest } from '../manifest.js';
import { memoryStorage } from '../storage-memory.js';
import { rejectionOf } from './rejection.js';

export interface SourceHarness {
  /** A source with something to back up (a seeded database, a folder of files). */
  source: AnySource;
  /**
   * The source's own restore options (given under its id) for the suite's restore: into a
   * scratch target, never the live place.
   */
  restoreOptions: object;
  /** Asserts that the restore put back what the backup read (rows, file contents). */
  checkRestored(): Promise<void>;
  /** Removes what the test made (databases, folders). */
  cleanup?(): Promise<void>;
}

export interface SourceSuiteOptions {
  /** Secrets the source knows (a password); none may appear in describe(), the manifest or errors. */
  secrets?: string[];
}

const HEALTH_STATUSES = ['ok', 'warning', 'critical'];

/** The manifest of a stored (unencrypted) archive, from the index the backup keeps beside it. */
async function manifestOf(storage: Storage, file: string): Promise<Manifest> {
  const record = JSON.parse(
    (await buffer(await storage.get(`${INDEX_PREFIX}${file}.json`))).toString(),
  );
  return JSON.parse(record.manifest) as Manifest;
}

/**
 * The shared source conformance suite: every source package runs it (as `testStorage` for
 * storages), so a new source (MySQL, a folder on another machine) keeps the engine's guarantees:
 * its entries stay inside its section, a backup restores and verifies, a cancelled backup leaves
 * nothing, and no secret reaches what it describes or records.
 */
export function testSource(
  name: string,
  create: () => Promise<SourceHarness>,
  options: SourceSuiteOptions = {},
) {
  describe(`source conformance: ${name}`, () => {
    let harness: SourceHarness;
    let engine: Engine;
    let storage: Storage;
    beforeEach(async () => {
      harness = await create();
      storage = memoryStorage();
      engine = createEngine({ sources: [harness.source], storage, pruneAfterBackup: false });
    });
    afterEach(async () => {
      await engine.close();
      await harness.cleanup?.();
    });

    const noSecrets = (text: string) => {
      for (const secret of options.secrets ?? []) expect(text).not.toContain(secret);
    };

    it('has an id, a section and a description without secrets', () => {
      const { source } = harness;
      expect(source.id).toMatch(/^[a-z0-9-]+$/);
      expect(source.section).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      const text = source.describe();
      expect(text.length).toBeGreaterThan(0);
      noSecrets(text);
    });

    it('backs up into its own section only, with a summary in the manifest and no secret', async () => {
      const result = await engine.backup();
      const { entries } = await engine.entries(result.id);
      const manifest = await manifestOf(storage, result.file);
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries)
        expect(entry.path.startsWith(`${harness.source.section}/`), entry.path).toBe(true);
      const own = manifest.sources.find((s) => s.id === harness.source.id);
      expect(own).toMatchObject({ id: harness.source.id, section: harness.source.section });
      expect(typeof own?.summary).toBe('object');
      noSecrets(JSON.stringify(manifest));
      noSecrets(JSON.stringify(result));
    });

    it('restores what it backed up, and the archive verifies', async () => {
      const result = await engine.backup();
      expect((await engine.verify(result.id)).ok).toBe(true);
      // The source's id is known only at run time: its options go under it.
      const options = { [harness.source.id]: harness.restoreOptions } as EngineRestoreOptions;
      await engine.restore(result.id, options);
      await harness.checkRestored();
    });

    it('a cancelled backup fails with ABORTED and leaves no archive', async () => {
      const controller = new AbortController();
      controller.abort();
      const error = await rejectionOf(engine.backup({ signal: controller.signal }));
      expect(error.code).toBe('ABORTED');
      expect(await engine.list()).toEqual([]);
    });

    it('health checks and manual restore steps, when it has them, are well formed', async () => {
      const { source } = harness;
      if (source.health) {
        await engine.context.sourceReady(source);
        const checks = await source.health();
        for (const check of checks) {
          expect(HEALTH_STATUSES).toContain(check.status);
          expect(check.name.length).toBeGreaterThan(0);
          noSecrets(JSON.stringify(check));
        }
      }
      if (source.manualRestoreSteps) {
        const result = await engine.backup();
        const manifest = await manifestOf(storage, result.file);
        const summary = manifest.sources.find((s) => s.id === source.id)?.summary ?? {};
        const steps = source.manualRestoreSteps(summary);
        for (const step of steps) expect(typeof step).toBe('string');
        noSecrets(steps.join('\n'));
      }
    });
  });
}
