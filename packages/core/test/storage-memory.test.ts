import { memoryStorage } from '@lifeboat/core';
import { testStorage } from '@lifeboat/core/testing';

testStorage('memory', async () => ({ storage: memoryStorage({ freeBytes: 1 << 30 }) }), {
  largeBytes: 4 * 1024 * 1024,
});
