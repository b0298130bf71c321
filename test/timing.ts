/**
 * Telling two timing samples apart, as an attacker would: the best accuracy one threshold reaches. A test
 * fails when it reaches 65%; with 150 of each (120 for the slow login test), two samples of one distribution
 * get there with a probability of about 2·e^(−2·0.09·n/2): 3·10⁻⁶ (4·10⁻⁵), so a failure is a difference.
 */
/** The best accuracy one threshold reaches in telling `a` from `b` (either side of it), 0.5 to 1. */
export function bestThresholdAccuracy(a: number[], b: number[]): number {
  const points = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort(
    (x, y) => x.v - y.v,
  );
  let best = 0.5;
  let belowA = 0;
  let belowB = 0;
  for (const point of points) {
    if (point.a) belowA++;
    else belowB++;
    // "a below the threshold, b above" or the reverse, each judged on balanced classes.
    const accuracy = (belowA / a.length + (b.length - belowB) / b.length) / 2;
    best = Math.max(best, accuracy, 1 - accuracy);
  }
  return best;
}
