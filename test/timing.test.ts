import { expect, it } from 'vitest';
import { bestThresholdAccuracy } from './timing.js';

it('bestThresholdAccuracy: 1 for separated samples, about 0.5 for the same one', () => {
  expect(bestThresholdAccuracy([1, 2, 3], [4, 5, 6])).toBe(1);
  expect(bestThresholdAccuracy([4, 5, 6], [1, 2, 3])).toBe(1);
  expect(bestThresholdAccuracy([1, 2, 3, 4], [1, 2, 3, 4])).toBeLessThanOrEqual(0.625);
});
