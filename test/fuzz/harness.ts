/**
 * The fuzz targets' common frame. In `npm test` each target runs a modest number of cases
 * from a fixed seed (so the suite is quick and repeatable); `npm run fuzz` sets FUZZ_RUNS
 * (and optionally FUZZ_TARGETS, FUZZ_SECONDS, FUZZ_SEED) for a long run, and each target
 * prints how many cases it ran, for docs/robustness.md.
 *
 *   FUZZ_RUNS=N         cases per target (the long mode)
 *   FUZZ_TARGETS=a,b    only these targets (names as printed)
 *   FUZZ_SECONDS=S      stop a target after S seconds, counting the cases run so far
 *   FUZZ_SEED=N         the seed (default: fixed in npm test, random in the long mode)
 *   FUZZ_SLOW_MS=N      a single case slower than this fails as a hang (default 10000)
 *   FUZZ_CATALOGUE=1    do not stop at the first failure: list each distinct one (triage)
 *   FUZZ_LAST=FILE      write each case to FILE before running it (to find the input of a hang)
 *   FUZZ_PATH=P         with FUZZ_SEED, replay the one case a failure printed (its `path`)
 *   FUZZ_PROGRESS=S     in the long mode, print the cases run so far every S seconds (default 600)
 *
 * The invariant every target checks: the code under test returns a result or reports a
 * located, expected error — no other exception escapes, and no case runs unbounded.
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';

const env = process.env;

/** True in the long mode (`npm run fuzz`). */
export const LONG = env.FUZZ_RUNS !== undefined && env.FUZZ_RUNS !== '';
const targets = env.FUZZ_TARGETS ? new Set(env.FUZZ_TARGETS.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
const seconds = env.FUZZ_SECONDS ? Number(env.FUZZ_SECONDS) : undefined;
/** A case slower than this fails as a hang; a request unanswered for this long fails as silence. */
export const slowMs = env.FUZZ_SLOW_MS ? Number(env.FUZZ_SLOW_MS) : 10_000;
const FIXED_SEED = 0x5eed;

function params(modest: number): fc.Parameters<unknown> {
  const seed = env.FUZZ_SEED ? Number(env.FUZZ_SEED) : LONG ? Date.now() ^ (process.pid << 8) : FIXED_SEED;
  return {
    numRuns: LONG ? Number(env.FUZZ_RUNS) : modest,
    seed,
    ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH, endOnFailure: true } : {}),
    // The long mode may be time-boxed; an interrupted run is not a failure, its count is reported.
    ...(LONG && seconds ? { interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false } : {}),
  };
}

function report(name: string, d: fc.RunDetails<unknown>, ms: number): void {
  if (d.failed) {
    const cause = d.errorInstance instanceof Error ? d.errorInstance.stack : String(d.errorInstance);
    throw new Error(`${fc.defaultReportMessage(d) ?? `${name} failed`}\n${cause}`);
  }
  if (LONG) {
    // One line per target, picked up by hand for docs/robustness.md.
    console.log(`    fuzz ${name}: ${d.numRuns} cases in ${(ms / 1000).toFixed(1)} s, seed ${d.seed}${d.interrupted ? ' (time limit)' : ''}`);
  }
}

/** Whether a target runs in this invocation. */
export function selected(name: string): boolean {
  return !targets || targets.has(name);
}

const catalogue = env.FUZZ_CATALOGUE === '1' ? new Map<string, { count: number; example: string }>() : undefined;

/** In catalogue mode: remember a failure by its message and the frame that threw, and go on. */
function catalogued<T>(f: (v: T) => void): (v: T) => void {
  if (!catalogue) return f;
  return (v) => {
    try {
      f(v);
    } catch (e) {
      remember(e, v);
    }
  };
}

function cataloguedAsync<T>(f: (v: T) => Promise<void>): (v: T) => Promise<void> {
  if (!catalogue) return f;
  return (v) => f(v).catch((e: unknown) => remember(e, v));
}

function remember(e: unknown, v: unknown): void {
  if (!catalogue) return;
  const err = e as Error;
  const frame = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 5).map((l) => l.trim().replace(/\(.*\/out\//, '(')).join(' < ');
  const key = `${err.name}: ${String(err.message).replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 160)} ${frame}`;
  const seen = catalogue.get(key);
  if (seen) seen.count++;
  else catalogue.set(key, { count: 1, example: fc.stringify(v).slice(0, 600) });
}

// Outside mocha (a script reusing the generators) there is no root hook.
if (typeof after === 'function') after(() => {
  if (!catalogue?.size) return;
  console.log(`\n  ${catalogue.size} distinct failures:`);
  for (const [k, { count, example }] of catalogue) console.log(`  [${count}x] ${k}\n      e.g. ${example}`);
});

const lastFile = env.FUZZ_LAST;
/** In the long mode, a line every FUZZ_PROGRESS seconds (default 600; 0: none) with the cases run so far. */
const progressMs = LONG ? Number(env.FUZZ_PROGRESS ?? 600) * 1000 : 0;

/** Counts a target's cases and now and then says how far it is (from inside a case: a synchronous run blocks timers). */
function progress(name: string): () => void {
  let cases = 0;
  const t0 = Date.now();
  let next = t0 + progressMs;
  return () => {
    cases++;
    if (!(progressMs > 0) || Date.now() < next) return;
    next = Date.now() + progressMs;
    console.log(`    fuzz ${name}: ${cases} cases so far, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  };
}

/**
 * Starts one case: counts it, records it for FUZZ_LAST, and returns the check that fails it
 * when it ran longer than a hang would be allowed to (it finished, but nothing may take that long).
 */
function caseClock<T>(name: string, tick: () => void, v: T): () => void {
  tick();
  if (lastFile) writeFileSync(lastFile, `${name}: ${fc.stringify(v)}\n`);
  const t0 = Date.now();
  return () => {
    const ms = Date.now() - t0;
    if (ms > slowMs) throw new Error(`${name}: one case took ${ms} ms (FUZZ_SLOW_MS ${slowMs}): an unbounded loop?`);
  };
}

function timed<T>(name: string, f: (v: T) => void): (v: T) => void {
  const tick = progress(name);
  return (v) => {
    const done = caseClock(name, tick, v);
    f(v);
    done();
  };
}

function timedAsync<T>(name: string, f: (v: T) => Promise<void>): (v: T) => Promise<void> {
  const tick = progress(name);
  return async (v) => {
    const done = caseClock(name, tick, v);
    await f(v);
    done();
  };
}

/** A synchronous target: `check` must return normally for every generated value. */
export function fuzz<T>(name: string, modest: number, arb: fc.Arbitrary<T>, check: (v: T) => void): void {
  (selected(name) ? it : it.skip)(`${name}: a result or a located error, never an escaping exception`, function () {
    if (LONG) this.timeout(0);
    const t0 = Date.now();
    const d = fc.check(fc.property(arb, catalogued(timed(name, check))), params(modest));
    report(name, d as fc.RunDetails<unknown>, Date.now() - t0);
  });
}

/** An asynchronous target (the debug adapter). */
export function fuzzAsync<T>(name: string, modest: number, arb: fc.Arbitrary<T>, check: (v: T) => Promise<void>): void {
  (selected(name) ? it : it.skip)(`${name}: every request answered, never an escaping exception`, async function () {
    if (LONG) this.timeout(0);
    const t0 = Date.now();
    const d = await fc.check(fc.asyncProperty(arb, cataloguedAsync(timedAsync(name, check))), params(modest));
    report(name, d as fc.RunDetails<unknown>, Date.now() - t0);
  });
}

/**
 * Run `f`; an exception is allowed only when `expected` accepts it (an error class the
 * API documents for bad input, with a message). Anything else escapes, failing the case.
 */
export function expectOnly(f: () => void, expected: (e: unknown) => boolean): void {
  try {
    f();
  } catch (e) {
    if (!expected(e)) throw e;
    const message = (e as Error).message;
    if (typeof message !== 'string' || message.trim() === '') throw new Error(`an expected error without a message: ${String(e)}`);
  }
}

/** Arbitrary 64-bit words, biased towards the small values and bit patterns tables hold. */
export const word64 = (): fc.Arbitrary<bigint> => fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.integer({ min: 0, max: 63 }).map((b) => 1n << BigInt(b)),
  fc.constantFrom(0n, (1n << 64n) - 1n, 1n, 0x8000_0000_0000_0000n),
);
