/**
 * Walk steps recorded as numbers: the walker writes each descriptor it reads into a log
 * (seven doubles a step), and `WalkStepDetail` objects are made only when someone reads
 * them (a view, the checker, the trace). A TLB miss then makes no object per step, and no
 * bigint for each descriptor.
 *
 * The log is written in chunks and never rewritten: the steps of a walk stay where they
 * were recorded for as long as anything holds the chunk (a result that has not been read
 * yet), and a chunk nothing holds is left to the garbage collector. A new chunk is started
 * between walks; a walk that outgrows its chunk copies it whole into a larger one, at the
 * same offsets. A log records one walk at a time (`begin` ... `end`).
 */
import { Granule } from '../../arch/field';
import { Level } from '../../arch/pte';
import { WalkStep, WalkStepDetail } from './types';

/** Step types by their code (walk.ts uses the same codes). */
export const STEP_TYPES = ['invalid', 'table', 'block', 'page', 'reserved'] as const;
const GRANULES: readonly Granule[] = [4, 16, 64];

/** Doubles per step, and where each field is. */
const STEP = 7;
const META = 0;
const DESC_ADDR = 1;
const LO = 2;
const HI = 3;
const INPUT = 4;
const DESC_IPA = 5;
const NEXT = 6;

/** Bits of META: stage - 1, level, type code, granule index, and which optional fields are present. */
const M_STAGE2 = 1;
const M_LEVEL = 1; // shift, 2 bits
const M_TYPE = 3; // shift, 3 bits
const M_GRANULE = 6; // shift, 2 bits
const M_FOR_TABLE = 1 << 8;
const M_DESC_IPA = 1 << 9;
const M_NEXT = 1 << 10;

/** Steps a chunk holds by default; a new chunk is started when fewer than RESERVE are left. */
const CHUNK_STEPS = 1024;
export const RESERVE = 64;

export class WalkLog {
  private data: Float64Array;
  private used = 0;
  private open = false;

  /** `sink`: an array each step is also appended to as an object when recorded (see `into`). */
  constructor(private readonly chunkSteps = CHUNK_STEPS, private readonly sink?: WalkStep[]) {
    this.data = new Float64Array(chunkSteps * STEP);
  }

  /** A log for a caller that wants the steps as objects in its own array, in the order they are read. */
  static into(steps: WalkStep[]): WalkLog {
    return new WalkLog(32, steps);
  }

  /** The chunk being written: steps recorded now are read from it (`stepsIn`, the accessors below). */
  get chunk(): Float64Array {
    return this.data;
  }

  /** Steps in the chunk so far: where the next one goes. */
  get length(): number {
    return this.used;
  }

  /** Whether a walk is being recorded (begun, not ended). */
  get recording(): boolean {
    return this.open;
  }

  /** Start recording a walk; its steps are those from the returned index to `length` at its end. */
  begin(): number {
    if (this.open) throw new Error('a walk log records one walk at a time');
    if ((this.used + RESERVE) * STEP > this.data.length) {
      this.data = new Float64Array(this.chunkSteps * STEP);
      this.used = 0;
    }
    this.open = true;
    return this.used;
  }

  /** The walk is complete (call it whatever happened, as a `finally`). */
  end(): void {
    this.open = false;
  }

  record(
    stage: 1 | 2, level: Level, descAddr: number, lo: number, hi: number, type: number, input: number, granule: Granule,
    forTable: boolean, descIpa: number | undefined, next: number | undefined,
  ): void {
    if ((this.used + 1) * STEP > this.data.length) this.enlarge();
    const at = this.used * STEP;
    const d = this.data;
    d[at + META] = (stage - 1) | (level << M_LEVEL) | (type << M_TYPE) | (GRANULES.indexOf(granule) << M_GRANULE) |
      (forTable ? M_FOR_TABLE : 0) | (descIpa !== undefined ? M_DESC_IPA : 0) | (next !== undefined ? M_NEXT : 0);
    d[at + DESC_ADDR] = descAddr;
    d[at + LO] = lo;
    d[at + HI] = hi;
    d[at + INPUT] = input;
    d[at + DESC_IPA] = descIpa ?? 0;
    d[at + NEXT] = next ?? 0;
    this.used++;
    if (this.sink) this.sink.push(...stepsIn(d, this.used - 1, this.used));
  }

  /** Twice the room, every step copied to the same place (a walk in progress keeps its indices). */
  private enlarge(): void {
    const bigger = new Float64Array(this.data.length * 2);
    bigger.set(this.data);
    this.data = bigger;
  }
}

// ---- reading steps in place (the walk cache): a step's bits once, then what it needs ------

/** Step `i`'s META bits, for the `meta*` readers. */
export const stepMeta = (c: Float64Array, i: number): number => c[i * STEP + META] | 0;
export const metaStage = (m: number): 1 | 2 => ((m & M_STAGE2) + 1) as 1 | 2;
export const metaLevel = (m: number): Level => ((m >> M_LEVEL) & 3) as Level;
export const metaType = (m: number): (typeof STEP_TYPES)[number] => STEP_TYPES[(m >> M_TYPE) & 7];
export const metaGranule = (m: number): Granule => GRANULES[(m >> M_GRANULE) & 3];
/** Whether the step has a next-level table (table steps do). */
export const metaHasNext = (m: number): boolean => (m & M_NEXT) !== 0;

export const stepDescAddr = (c: Float64Array, i: number): number => c[i * STEP + DESC_ADDR];
/** The descriptor's 32-bit halves. */
export const stepLow = (c: Float64Array, i: number): number => c[i * STEP + LO];
export const stepHigh = (c: Float64Array, i: number): number => c[i * STEP + HI];
export const stepInput = (c: Float64Array, i: number): number => c[i * STEP + INPUT];
/** The next-level table, where `metaHasNext`. */
export const stepNext = (c: Float64Array, i: number): number => c[i * STEP + NEXT];

/** Steps [start, end) of a chunk as the objects the walker's callers have always been given. */
export function stepsIn(c: Float64Array, start: number, end: number): WalkStepDetail[] {
  const out: WalkStepDetail[] = [];
  for (let i = start; i < end; i++) {
    const m = stepMeta(c, i);
    out.push({
      stage: metaStage(m), level: metaLevel(m), descAddr: stepDescAddr(c, i), desc: (BigInt(stepHigh(c, i)) << 32n) | BigInt(stepLow(c, i)),
      type: metaType(m), source: 'memory', forTable: (m & M_FOR_TABLE) !== 0, input: stepInput(c, i), granule: metaGranule(m),
      descIpa: m & M_DESC_IPA ? c[i * STEP + DESC_IPA] : undefined, next: metaHasNext(m) ? stepNext(c, i) : undefined,
    });
  }
  return out;
}
