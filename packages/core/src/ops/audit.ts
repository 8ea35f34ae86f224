import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { listArchives } from '../engine/archives.js';
import type { EngineContext } from '../engine/context.js';
import { readHistory } from '../engine/history.js';
import { redact } from '../redact.js';
import { planRetention } from './retention.js';

export interface AuditFinding {
  check: string;
  status: 'ok' | 'finding';
  message: string;
  fix?: string;
}

export interface AuditOptions {
  /** Local folder of the archives, when the storage is local. */
  localDir?: string;
  /** Log files to search for secrets (rotated siblings are searched too). */
  logFiles?: string[];
  /** Secret values to look for, besides the patterns. */
  secrets?: string[];
}

export const SECRET_ENTRY = /(^|\/)\.env([._-]|$)|\.key$|privkey|private|id_rsa|\.p12$|\.pfx$/i;
const SECRET_PATTERNS = [
  /postgres(ql)?:\/\/[^:\s/@]+:[^@\s*]{2,}@/i,
  /AGE-SECRET-KEY-1[0-9A-Z]{20,}/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /(password|passwd|secret|token)["']?\s*[:=]\s*["']?(?!\*\*\*)[^\s"',}]{3,}/i,
];

/** The security audit of the old guide: permissions, secrets in logs, unencrypted secrets, retention. */
export async function audit(
  ctx: EngineContext,
  options: AuditOptions = {},
): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  if (options.localDir) {
    try {
      const mode = statSync(options.localDir).mode & 0o777;
      findings.push(
        mode & 0o077
          ? {
              check: 'folder-permissions',
              status: 'finding',
              message: `${options.localDir} has mode ${mode.toString(8)}: others can read the archives`,
              fix: `chmod 700 ${options.localDir}`,
            }
          : {
              check: 'folder-permissions',
              status: 'ok',
              message: `${options.localDir} is private (${mode.toString(8)})`,
            },
      );
      const open = readdirSync(options.localDir).filter((n) => {
        try {
          const st = statSync(join(options.localDir!, n));
          return st.isFile() && (st.mode & 0o077) !== 0;
        } catch {
          return false;
        }
      });
      findings.push(
        open.length
          ? {
              check: 'archive-permissions',
              status: 'finding',
              message: `${open.length} file(s) readable by others: ${open.slice(0, 5).join(', ')}`,
              fix: `chmod 600 ${options.localDir}/*`,
            }
          : { check: 'archive-permissions', status: 'ok', message: 'every archive is 0600' },
      );
    } catch (error) {
      findings.push({
        check: 'folder-permissions',
        status: 'finding',
        message: `cannot inspect ${options.localDir}: ${(error as Error).message}`,
      });
    }
  }
  for (const file of options.logFiles ?? []) {
    const dir = dirname(file);
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter(
        (n) => n === basename(file) || n.startsWith(`${basename(file)}.`),
      );
    } catch {
      names = [];
    }
    const leaks: string[] = [];
    for (const name of names) {
      const text = readFileSync(join(dir, name), 'utf8');
      const hit =
        SECRET_PATTERNS.some((p) => p.test(text)) ||
        (options.secrets ?? []).some((s) => s.length >= 4 && text.includes(s));
      if (hit) leaks.push(name);
    }
    findings.push(
      leaks.length
        ? {
            check: 'secrets-in-logs',
            status: 'finding',
            message: `secrets found in ${leaks.join(', ')} (in ${dir})`,
            fix: 'Remove those lines or files, rotate the leaked secrets, and keep LOG_FILE for Lifeboat only.',
          }
        : {
            check: 'secrets-in-logs',
            status: 'ok',
            message: `no secret in ${names.length} log file(s) for ${file}`,
          },
    );
  }
  const archives = await listArchives(ctx);
  const history = await readHistory(ctx.storage);
  const secretSources = ctx.sources.some((s) => s.section === 'config');
  const plain = archives.filter((a) => !a.encrypted);
  const plainWithSecrets = plain.filter((a) => {
    const record = history.find((r) => r.kind === 'backup' && r.id === a.id);
    return record ? (record.files ?? 0) > 0 : secretSources;
  });
  findings.push(
    plainWithSecrets.length
      ? {
          check: 'unencrypted-secrets',
          status: 'finding',
          message: `${plainWithSecrets.length} unencrypted archive(s) hold config files (.env, private keys): ${plainWithSecrets
            .slice(0, 3)
            .map((a) => a.id)
            .join(', ')}`,
          fix: 'Set BACKUP_ENCRYPTION_RECIPIENTS to an age public key so new archives are encrypted.',
        }
      : !ctx.cipher && secretSources
        ? {
            check: 'unencrypted-secrets',
            status: 'finding',
            message: 'config files are backed up without encryption',
            fix: 'Set BACKUP_ENCRYPTION_RECIPIENTS.',
          }
        : {
            check: 'unencrypted-secrets',
            status: 'ok',
            message: ctx.cipher ? 'archives are encrypted' : 'no config files are backed up',
          },
  );
  // Would the policy alone delete every archive a day from now? (The newest is always kept anyway.)
  const policy = ctx.config.retention;
  const tomorrow = new Date(ctx.now().getTime() + 86400_000);
  const plan = planRetention(archives, policy, tomorrow);
  const keptOnlyAsNewest =
    plan.keep.length === 1 && plan.keep[0]!.reasons.length === 1 && archives.length > 1;
  const noRule =
    policy.days === undefined &&
    !policy.keepLast &&
    !policy.keepDaily &&
    !policy.keepWeekly &&
    !policy.keepMonthly;
  findings.push(
    noRule ||
      keptOnlyAsNewest ||
      (policy.days !== undefined && policy.days < 2 && !policy.keepLast && !policy.keepDaily)
      ? {
          check: 'retention',
          status: 'finding',
          message: noRule
            ? 'no retention rule keeps any archive beyond the newest'
            : `the retention policy (${redact(JSON.stringify(policy))}) would delete every archive but the newest within a day`,
          fix: 'Keep more: BACKUP_RETENTION_DAYS=30 or BACKUP_KEEP_DAILY=7 BACKUP_KEEP_WEEKLY=4 BACKUP_KEEP_MONTHLY=12.',
        }
      : {
          check: 'retention',
          status: 'ok',
          message: `retention keeps ${plan.keep.length} of ${archives.length} archive(s)`,
        },
  );
  return findings;
}
