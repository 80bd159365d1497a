// Random moments the fault tests can replay: FAULT_SEED=<n> repeats a run; the seed is printed.
export interface SeededRandom {
  (): number;
  seed: number;
}

export function seededRandom(seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31))): SeededRandom {
  // mulberry32
  let state = seed >>> 0;
  const next = (() => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as SeededRandom;
  next.seed = seed;
  return next;
}
