import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/io.js';

/**
 * Row counts in the CLI's lines are grouped as toLocaleString('en') groups them, without ICU
 * (its first call cost 20 ms of every command that printed a table line).
 */
describe('formatCount', () => {
  it("writes counts as toLocaleString('en') does", () => {
    const samples = [0, 7, 42, 999, 1000, 12_345, 123_456, 1_234_567, 98_765_432_101, -1, -1234];
    samples.push(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1.5, 1234.5678, 1e21);
    for (const n of samples) expect(formatCount(n), String(n)).toBe(n.toLocaleString('en'));
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });
});
