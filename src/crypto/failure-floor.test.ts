import { describe, expect, it } from 'vitest';
import { FailureFloor } from './failure-floor.js';

/** A floor on a clock the test moves, whose waits are recorded instead of slept. */
function floorOnTestClock() {
  let now = 1000;
  const waits: number[] = [];
  const floor = new FailureFloor(
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    },
  );
  return { floor, waits, advance: (ms: number) => (now += ms), now: () => now };
}

describe('FailureFloor', () => {
  it('waits for nothing while no foreign hash was measured', async () => {
    const { floor, waits } = floorOnTestClock();
    await floor.pad(floor.now());
    expect(floor.ms).toBe(0);
    expect(waits).toEqual([]);
  });

  it('makes a failure last as long as the slowest foreign check measured, with a quarter more', async () => {
    const { floor, waits, advance, now } = floorOnTestClock();
    floor.observe(400);
    floor.observe(200);
    expect(floor.ms).toBe(500);
    const started = now();
    advance(30); // a native failure: one argon2id check
    await floor.pad(started);
    expect(waits).toEqual([470]);
    expect(now() - started).toBe(500);
  });

  it('adds nothing to a failure that took longer than the floor already', async () => {
    const { floor, waits, advance, now } = floorOnTestClock();
    floor.observe(100);
    const started = now();
    advance(300);
    await floor.pad(started);
    expect(waits).toEqual([]);
  });

  it('follows the last 32 measurements: an old slow one is forgotten', () => {
    const { floor } = floorOnTestClock();
    floor.observe(1000);
    for (let i = 0; i < 32; i++) floor.observe(100);
    expect(floor.ms).toBe(125);
  });
});
