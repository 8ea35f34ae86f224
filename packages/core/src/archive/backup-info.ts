import type { Manifest } from '../manifest.js';

/** The human-readable summary stored as BACKUP_INFO.txt, with the manual restore order. */
export function renderBackupInfo(
  id: string,
  manifest: Manifest,
  manualSteps: { section: string; steps: string[] }[],
  /** Each section's items, as its source reports them. */
  contents: { section: string; lines: string[] }[] = [],
): string {
  const lines: string[] = [];
  lines.push(`Lifeboat backup ${id}`);
  lines.push('='.repeat(lines[0]!.length));
  lines.push('');
  lines.push(`Created:     ${manifest.createdAt}`);
  lines.push(`Completed:   ${manifest.completedAt} (${(manifest.durationMs / 1000).toFixed(1)} s)`);
  lines.push(
    `Tool:        ${manifest.tool.name} ${manifest.tool.version}, archive format ${manifest.formatVersion}`,
  );
  lines.push(`Entries:     ${manifest.entries.length} (sizes and sha256 in manifest.json)`);
  lines.push('');
  lines.push('Contents');
  lines.push('--------');
  for (const source of manifest.sources) {
    lines.push(`${source.section}/   (${source.id})`);
    for (const item of contents.find((c) => c.section === source.section)?.lines ?? [])
      lines.push(`    ${item}`);
  }
  if (manifest.warnings.length > 0) {
    lines.push('');
    lines.push('Warnings');
    lines.push('--------');
    for (const w of manifest.warnings) lines.push(`    [${w.code}] ${w.message}`);
  }
  lines.push('');
  lines.push('Restore with Lifeboat');
  lines.push('---------------------');
  lines.push(`    lifeboat verify ${id}`);
  lines.push(`    lifeboat restore ${id} --target-database NAME      # database`);
  lines.push(`    lifeboat restore ${id} --only config --config-dir DIR`);
  lines.push('');
  lines.push('Restore by hand, with standard tools only');
  lines.push('----------------------------------------');
  lines.push(`    mkdir restore && tar -xzf ${id}.tar.gz -C restore && cd restore`);
  lines.push('    sha256sum -c SHA256SUMS      # checks every file against the manifest');
  for (const { section, steps } of manualSteps) {
    lines.push('');
    lines.push(`  ${section}/`);
    for (const step of steps) lines.push(`    ${step}`);
  }
  lines.push('');
  return lines.join('\n');
}
