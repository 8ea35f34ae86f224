import { describe, expect, it } from 'vitest';
import { compareIds, newestFirst } from '../src/archive/naming.js';

describe('archive ids in order without ICU', () => {
  it('orders as localeCompare(…, "en", { numeric: true }) does for archive ids', () => {
    const ids = [
      'lifeboat_2026-12-05_10-00-00_10',
      'lifeboat_2026-12-05_10-00-00',
      'lifeboat_2026-12-05_10-00-00_2',
      'lifeboat_2026-12-04_23-59-59',
      'Lifeboat_2026-12-05_10-00-00_3',
      'other_2026-12-05_10-00-00',
      'a9',
      'a10',
      'a09b',
    ];
    const expected = [...ids].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    expect([...ids].sort(compareIds)).toEqual(expected);
  });

  it('newest first, ties by the highest id', () => {
    const at = '2026-12-05T10:00:00.000Z';
    const list = [
      { createdAt: '2026-12-04T10:00:00.000Z', id: 'x_9' },
      { createdAt: at, id: 'x_2' },
      { createdAt: at, id: 'x_10' },
    ];
    expect([...list].sort(newestFirst).map((a) => a.id)).toEqual(['x_10', 'x_2', 'x_9']);
  });
});
