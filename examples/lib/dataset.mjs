// Loads the Smart AI Hub-like dataset (a psql script) with node-postgres alone, so the demo
// and the tests need no psql binary. `N * :scale` becomes a whole number, so fractions work.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DATASET_PATH = fileURLToPath(new URL('../demo/smart-ai-hub.sql', import.meta.url));

/** The dataset's SQL for a scale, without psql meta-commands. */
export function datasetSql(scale = 1) {
  return readFileSync(DATASET_PATH, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('\\'))
    .join('\n')
    .replace(/(\d+) \* :scale/g, (_, n) => String(Math.max(1, Math.round(Number(n) * scale))))
    .replace(/:scale/g, String(scale));
}

/** Runs the dataset in `client` (a connected pg.Client). */
export async function loadDataset(client, scale = 1) {
  await client.query(datasetSql(scale));
}
