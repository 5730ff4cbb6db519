/**
 * The benchmark harness, in quick mode, on one tiny benchmark: what it runs, how often,
 * and what it reports. No timing is asserted (figures depend on the machine), only the
 * structure: repetitions, median within the spread, a ratio per repetition, slots.
 */
import { strict as assert } from 'node:assert';
import { Benchmark, formatRow, optionsFromEnv, runBenchmarks, stats } from '../../bench/harness';

describe('bench/harness', () => {
  it('stats: the median of an odd and an even count, and the spread', () => {
    // Sorted 1, 2, 9: the middle one is 2.
    assert.deepEqual(stats([9, 1, 2]), { median: 2, min: 1, max: 9, runs: [9, 1, 2] });
    // Sorted 1, 3, 5, 100: the mean of the middle two, (3 + 5) / 2 = 4.
    assert.equal(stats([5, 100, 1, 3]).median, 4);
    assert.throws(() => stats([]), /no measurements/);
  });

  it('options: BENCH_QUICK gives 2 repetitions and no warm-up; BENCH_REPS and BENCH_CLOCK are checked', () => {
    assert.deepEqual(optionsFromEnv({ BENCH_QUICK: '1' }), { quick: true, reps: 2, warmup: 0, clock: 'wall' });
    assert.deepEqual(optionsFromEnv({}), { quick: false, reps: 5, warmup: 1, clock: 'wall' });
    assert.equal(optionsFromEnv({ BENCH_REPS: '3', BENCH_CLOCK: 'cpu' }).reps, 3);
    assert.throws(() => optionsFromEnv({ BENCH_REPS: 'x' }), /BENCH_REPS=x: give a whole number/);
    assert.throws(() => optionsFromEnv({ BENCH_CLOCK: 'sundial' }), /BENCH_CLOCK=sundial: give wall or cpu/);
  });

  it('runs a tiny benchmark in quick mode: model and floor side by side, each figure with its ratio, slots, failures', async () => {
    const calls: string[] = [];
    const work = (n: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += i % 7;
      return s;
    };
    const tiny: Benchmark = {
      id: 't',
      title: 'tiny',
      async run(ctx) {
        assert.equal(ctx.quick, true);
        assert.equal(ctx.size(1_000_000, 1000), 1000);
        await ctx.pair({
          label: 'sum of 1000 numbers',
          unit: 'ops/s',
          work: 1000,
          model: { prepare: () => calls.push('prepare'), run: () => { calls.push('model'); return work(1000); }, cleanup: () => calls.push('cleanup') },
          floor: { label: 'the same loop', run: () => { calls.push('floor'); return work(1000); } },
          target: { on: 'ratio', cmp: '>=', limit: 0.5 },
        });
        ctx.value('a size', 'KB', [10], { target: { on: 'value', cmp: '<=', limit: 400 } });
        ctx.pending('a slot', 'not written yet');
      },
    };
    const broken: Benchmark = { id: 'b', title: 'broken', run: () => { throw new Error('no such table'); } };
    const lines: string[] = [];
    const { rows, failures } = await runBenchmarks([broken, tiny], optionsFromEnv({ BENCH_QUICK: '1' }), (l) => lines.push(l));

    // The broken one is reported; the tiny one still runs. Two repetitions, no warm-up, the
    // order alternating (model first, then floor first), prepare and cleanup around each model run.
    assert.deepEqual(failures.map((f) => f.id), ['b']);
    assert.match(failures[0].error, /no such table/);
    assert.deepEqual(calls, ['prepare', 'model', 'cleanup', 'floor', 'floor', 'prepare', 'model', 'cleanup']);

    assert.deepEqual(rows.map((r) => [r.bench, r.label, r.unit]), [['t', 'sum of 1000 numbers', 'ops/s'], ['t', 'a size', 'KB'], ['t', 'a slot', 'ms']]);
    const [pair, size, slot] = rows;
    for (const s of [pair.value!, pair.floor!.value, pair.ratio!]) {
      assert.equal(s.runs.length, 2);
      assert.ok(s.min <= s.median && s.median <= s.max, `${s.min} <= ${s.median} <= ${s.max}`);
    }
    assert.equal(pair.floor!.label, 'the same loop');
    assert.equal(typeof pair.met, 'boolean');
    // 10 KB against a 400 KB limit: met, whatever the machine.
    assert.equal(size.met, true);
    assert.equal(slot.value, undefined);
    assert.equal(slot.pending, 'not written yet');

    const text = lines.join('\n');
    assert.match(text, /\[t\] tiny/);
    assert.match(text, /floor \(the same loop\): /);
    assert.match(text, /ratio [0-9.e+]+×/);
    assert.match(text, /target >= 0\.500× floor: (met|NOT met)/);
    assert.match(formatRow(slot), /PENDING: not written yet/);
    assert.doesNotMatch(formatRow(slot), /ratio/);
  });
});
