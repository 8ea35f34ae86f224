import { createReadStream, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RetentionPolicy } from '../config.js';
import { hostHint } from '../errors.js';
import { redact } from '../redact.js';
import { displayUrl, sendsTokenInClear } from '../url-secrets.js';
import { listArchives } from './archives.js';
import type { EngineContext } from './context.js';
import { readHistory } from './history.js';
import { hasRetentionRule, planRetention } from './retention.js';

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
  /**
   * Webhook and heartbeat URLs: one that sends a token over plain http is a finding, and so is a
   * webhook (`signed: false`) whose receiver cannot tell Lifeboat's posts from anyone else's.
   */
  endpoints?: { name: string; url: string; signed?: boolean }[];
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
    const unreadable: string[] = [];
    for (const name of names) {
      try {
        if (await holdsSecret(join(dir, name), options.secrets ?? [])) leaks.push(name);
      } catch {
        unreadable.push(name);
      }
    }
    findings.push(
      leaks.length
        ? {
            check: 'secrets-in-logs',
            status: 'finding',
            message: `secrets found in ${leaks.join(', ')} (in ${dir})`,
            fix: hostHint(
              'audit:secrets-in-logs',
              'Remove those lines or files, rotate the leaked secrets, and keep the log file for Lifeboat only.',
            ),
          }
        : unreadable.length
          ? {
              check: 'secrets-in-logs',
              status: 'finding',
              message: `cannot read ${unreadable.join(', ')} (in ${dir}) to look for secrets`,
            }
          : {
              check: 'secrets-in-logs',
              status: 'ok',
              message: `no secret in ${names.length} log file(s) for ${file}`,
            },
    );
  }
  const archives = await listArchives(ctx);
  const history = await readHistory(ctx.storage, {}, ctx.cipher);
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
          fix: hostHint(
            'audit:unencrypted-archives',
            'Give the engine a cipher (ageCipher with an age public key) so new archives are encrypted.',
          ),
        }
      : !ctx.cipher && secretSources
        ? {
            check: 'unencrypted-secrets',
            status: 'finding',
            message: 'config files are backed up without encryption',
            fix: hostHint('audit:unencrypted-config', 'Give the engine a cipher (ageCipher).'),
          }
        : {
            check: 'unencrypted-secrets',
            status: 'ok',
            message: ctx.cipher ? 'archives are encrypted' : 'no config files are backed up',
          },
  );
  findings.push(retentionFinding(ctx.config.retention, ctx.now(), archives.length));
  for (const endpoint of options.endpoints ?? []) findings.push(...endpointFindings(endpoint));
  return findings;
}

function endpointFindings(endpoint: {
  name: string;
  url: string;
  signed?: boolean;
}): AuditFinding[] {
  const where = `${endpoint.name} (${displayUrl(endpoint.url)})`;
  const findings: AuditFinding[] = [
    sendsTokenInClear(endpoint.url)
      ? {
          check: 'token-in-clear',
          status: 'finding',
          message: `${where} is plain http:// and its URL carries a token: anyone on the path can read it`,
          fix: `Use https:// for ${endpoint.name}, and rotate the token.`,
        }
      : { check: 'token-in-clear', status: 'ok', message: `${where} sends no token in clear` },
  ];
  if (endpoint.signed === false) {
    findings.push({
      check: 'unsigned-webhook',
      status: 'finding',
      message: `${where} posts without a signature: the receiver cannot tell Lifeboat's messages from forged ones`,
      fix: hostHint(
        'audit:unsigned-webhook',
        'Give the webhook notifier a secret and verify the X-Lifeboat-Signature header in the receiver.',
      ),
    });
  } else if (endpoint.signed === true) {
    findings.push({
      check: 'unsigned-webhook',
      status: 'ok',
      message: `${where} signs every post (HMAC-SHA256)`,
    });
  }
  return findings;
}

/** Scans a log file line by line (logs can be large) for secret patterns and known secrets. */
async function holdsSecret(path: string, secrets: string[]): Promise<boolean> {
  const known = secrets.filter((x) => x.length >= 4);
  // Only `audit` reads logs: the other commands do not load node:readline.
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      if (SECRET_PATTERNS.some((p) => p.test(line)) || known.some((x) => line.includes(x)))
        return true;
    }
    return false;
  } finally {
    lines.close();
  }
}

/**
 * Would the policy, over a year of daily backups, keep only one archive (the newest, which is
 * always kept anyway)? Then one bad night, or one backup of a broken database, leaves nothing
 * to go back to.
 */
function retentionFinding(policy: RetentionPolicy, now: Date, count: number): AuditFinding {
  const described = redact(JSON.stringify(policy));
  if (!hasRetentionRule(policy)) {
    return {
      check: 'retention',
      status: 'finding',
      message: 'no retention rule is set: archives are never pruned and will fill the storage',
      fix: hostHint(
        'audit:no-retention',
        'Set a retention rule: { days: 30 }, or { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }.',
      ),
    };
  }
  const daily = Array.from({ length: 400 }, (_, i) => {
    const at = new Date(now.getTime() - i * 86400_000);
    return { id: `day-${String(i).padStart(3, '0')}`, createdAt: at.toISOString() };
  });
  // Planned a day after the last backup, just before the next one runs.
  const plan = planRetention(daily, policy, new Date(now.getTime() + 86400_000 - 1000));
  const kept = plan.keep.length;
  return kept <= 1
    ? {
        check: 'retention',
        status: 'finding',
        message: `the retention policy ${described} would delete every archive but the newest: one bad backup leaves nothing to restore`,
        fix: hostHint(
          'audit:retention-too-short',
          'Keep more: { days: 30 } or { keepDaily: 7, keepWeekly: 4, keepMonthly: 12 }.',
        ),
      }
    : {
        check: 'retention',
        status: 'ok',
        message: `with daily backups the policy ${described} keeps ${kept} archive(s) (${count} stored now)`,
      };
}
