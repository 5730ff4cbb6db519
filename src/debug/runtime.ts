/**
 * The debugger's engine: runs a scenario session forwards and backwards, stopping at
 * breakpoints (lines, driver functions, events, hazards, data) — no DAP here, the adapter
 * translates. Going backwards restores the nearest snapshot taken at a statement boundary
 * and replays forwards: execution is deterministic, so every position is reproduced
 * exactly, and the cost does not grow with how far into the run the target is.
 */
import type { Hazard } from '../check/checker';
import { MicroOp, opText } from '../driver/ops';
import type { MachineActivity, Tagged } from '../model/machine';
import type { Program, Step } from '../scenario/program';
import type { TranslateResult } from '../model/smmu/smmu';
import type { Transaction } from '../model/smmu/types';
import type { OpEvent } from '../scenario/runner';
import { khoStop } from './khoView';
import { Session, SessionOptions, SessionSnapshot } from './session';

/** Event breakpoints offered as exception filters. */
export interface EventFilter {
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly default?: boolean;
}

/**
 * What every breakpoint has: a condition, a hit condition, and where in the run it was hit.
 * Hits are positions, not a counter, so replaying a stretch of the run (a step back, a
 * reverse continue) counts each hit once, and the count at a position is always the same.
 */
export interface Hittable {
  /** Stop only when it evaluates to true (non-zero). */
  readonly condition?: string;
  /** Stop on the Nth hit (`N`, `== N`), from the Nth on (`>= N`), or every Nth (`% N`). */
  readonly hitCondition?: string;
  /** The positions (see `positionKey`) where the condition held. */
  readonly hits: Set<number>;
}

export interface LineBreakpoint extends Hittable {
  readonly id: number;
  readonly file: string;
  readonly line: number;
}

export interface FunctionBreakpoint extends Hittable {
  readonly id: number;
  readonly name: string;
}

export interface DataBreakpoint extends Hittable {
  readonly id: number;
  readonly addr: number;
  readonly len: number;
  /** write: the CPU stores to it; read: the SMMU fetches it; readWrite: either. */
  readonly access: 'read' | 'write' | 'readWrite';
}

/** A translation the SMMU made: the transaction and its result (fetches and walk). */
export interface TranslateView {
  readonly kind: 'translate';
  readonly tx: Transaction;
  readonly result: TranslateResult;
}

/** What the SMMU did last: a translation, or fetches outside one (PREFETCH_CFG). */
export type SmmuView =
  | TranslateView
  | { readonly kind: 'fetch'; readonly fetches: readonly { readonly what: string; readonly addr: number; readonly sid?: number; readonly ssid?: number }[] };

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto';

export interface StopInfo {
  /** True when the run only paused to let other requests in (it was not asked to stop). */
  readonly yielded?: boolean;
  readonly reason: StopReason;
  readonly description: string;
  /** For event and hazard stops: which filter, and the details. */
  readonly exception?: { readonly filter: string; readonly id: string; readonly description: string; readonly details: string };
  readonly hitBreakpointIds?: readonly number[];
  /**
   * The statement the stop is about when the run stands between statements: a hazard found
   * at the end of a statement, or at the end of the run, belongs to the statement before.
   */
  readonly step?: number;
  /** Found when the run ended (the checker's last judgement), not as a statement ended. */
  readonly atEnd?: boolean;
}

/**
 * A position in the run: statements started, micro-operations executed, and whether a
 * statement is under way (after its last operation, a statement has not ended yet).
 */
export interface Position {
  readonly next: number;
  readonly ops: number;
  readonly inStatement: boolean;
}

/** Positions in run order: by operations, then statements, a statement's inside before its end. */
function before(a: Position, b: Position): boolean {
  if (a.ops !== b.ops) return a.ops < b.ops;
  if (a.next !== b.next) return a.next < b.next;
  return a.inStatement && !b.inStatement;
}

const same = (a: Position, b: Position): boolean => a.ops === b.ops && a.next === b.next && a.inStatement === b.inStatement;

/** Where a run can stop: before a statement, or after a micro-operation inside one. */
interface Pending {
  reason: StopReason;
  description: string;
  exception?: StopInfo['exception'];
  ids?: number[];
  step?: number;
  atEnd?: boolean;
}

/** A position as one number that grows through the run (statements started and operations done). */
function positionKey(p: Position): number {
  return p.ops * 1_000_000 + p.next;
}

/** A snapshot at a statement boundary, with what the SMMU thread and the Last walk scope show there. */
interface Snapshot {
  readonly session: SessionSnapshot;
  readonly smmu?: SmmuView;
  readonly lastWalk?: TranslateView;
}

const HAZARD_PREFIX = 'hazard:';

/** How many boundaries before a step-back target get their own snapshot, and how many such are kept. */
const RECENT = 32;

/** The event filters; hazard rules are added by the adapter from the checker's catalogue. */
export const EVENT_FILTERS: readonly EventFilter[] = [
  { id: 'cmo', label: 'Cache maintenance (CMO)', description: 'DC CVAC / CIVAC / IVAC on a range' },
  { id: 'barrier', label: 'Barrier', description: 'dma_wmb, wmb, mb, dmb, dsb' },
  { id: 'invalidation', label: 'Invalidation command', description: 'CFGI_*, TLBI_*, ATC_INV consumed by the SMMU' },
  { id: 'sync', label: 'CMD_SYNC', description: 'a CMD_SYNC completed' },
  { id: 'fault', label: 'SMMU fault event', description: 'a transaction faulted (an event record, recorded or not)' },
  { id: 'kexec', label: 'kexec / handover', description: 'the handover to the new kernel' },
  { id: 'preserve', label: 'KHO preserve', description: 'memory preserved (or unpreserved) for the next kernel' },
  { id: 'finalize', label: 'KHO finalize', description: 'the preserved memory and the handover description are frozen' },
  { id: 'restore', label: 'KHO restore', description: 'the new kernel restores preserved memory' },
];

export class Runtime {
  session: Session;
  private snapshots = new Map<number, Snapshot>();
  /** Extra snapshots near where the user stepped back to, oldest first (see `snapshotHere`). */
  private recent: number[] = [];
  lines: LineBreakpoint[] = [];
  functions: FunctionBreakpoint[] = [];
  data: DataBreakpoint[] = [];
  filters = new Set<string>();
  /** Evaluates a breakpoint condition at the current position (set by the adapter). */
  condition: (expr: string) => boolean = () => true;
  private pending?: Pending;
  /** Further stops found at the same operation: `continue` reports them one by one before moving on. */
  private queued: Pending[] = [];
  /** Set while replaying: positions passed are not stops. */
  private replaying = false;
  private pauseRequested = false;
  /** The last stop, for exceptionInfo. */
  lastStop?: StopInfo;
  /** Where the run was stopped before statement `next` began (so continuing from a line breakpoint moves on). */
  private stoppedAtStatementStart = -1;
  /** Most micro-operations one call runs before yielding (`yielded` stop), so a pause can get in. */
  sliceOps = Infinity;
  /** Seconds a reverse-continue may search before it gives up and stays where it was (forward runs go in slices instead). */
  requestTimeout = Infinity;
  private deadline = Infinity;
  /** Changes made by the user while stopped (setVariable, writeMemory), replayed at their position. */
  private edits: { at: Position; apply: (r: Runtime) => void }[] = [];
  /** The micro-operation performed last inside the current statement (the innermost frame). */
  lastOp?: { readonly op: MicroOp; readonly seq: number };
  /**
   * The micro-operation performed last, as one line: what the top stack frame shows when the run
   * stops inside a statement (frame entries and exits included: `call f (…)`, `return from f`).
   */
  lastOpText?: string;
  /** The driver frames after the last micro-operation, to name the function a `leave` returns from. */
  private frameStack: string[] = [];
  /** What the SMMU did last (the SMMU thread). */
  smmu?: SmmuView;
  /** The last translation (the Last walk scope): it stays while later commands fetch configuration. */
  lastWalk?: TranslateView;
  /** Configuration fetches of the current operation not (yet) part of a translation. */
  private fetches: { what: string; addr: number; sid?: number; ssid?: number }[] = [];
  private hazardsSeen = 0;

  constructor(readonly program: Program, private readonly opts: SessionOptions = {}) {
    this.session = this.newSession();
  }

  private newSession(): Session {
    const s = new Session(this.program, this.opts);
    s.runner.observe((t) => this.onActivity(t));
    s.runner.afterOp((op) => this.onOp(op));
    // The checker also judges at the end of a statement (torn updates, stale caches) and at the
    // end of the run: those hazards stop the run there, not at some later micro-operation. They
    // belong to the statement that ended (the run now stands after it), or to the last one.
    s.runner.afterStatement((step) => this.scanHazards(step.index));
    s.runner.atEnd(() => this.scanHazards(this.program.steps.length - 1, true));
    this.frameStack = [];
    return s;
  }

  get runner() {
    return this.session.runner;
  }

  get position(): Position {
    return { next: this.runner.next, ops: this.runner.ops, inStatement: this.runner.inStatement };
  }

  get done(): boolean {
    return this.runner.done;
  }

  /** The statement being executed or about to be. */
  get current(): Step | undefined {
    return this.runner.current;
  }

  get hazards(): readonly Hazard[] {
    return this.session.checker?.hazards ?? [];
  }

  // ---- what makes the run stop ---------------------------------------------------------

  private stop(p: Pending): void {
    if (this.replaying) return;
    if (this.pending) this.queued.push(p);
    else this.pending = p;
  }

  private hit(bp: Hittable): boolean {
    if (bp.condition && !this.condition(bp.condition)) return false;
    const here = positionKey(this.position);
    bp.hits.add(here);
    const h = bp.hitCondition?.trim();
    if (!h) return true;
    const m = /^(>=|==|%)?\s*(\d+)$/.exec(h);
    if (!m) return true;
    let count = 0;
    for (const p of bp.hits) if (p <= here) count++;
    const n = Number(m[2]);
    if (m[1] === '>=') return count >= n;
    if (m[1] === '%') return n > 0 && count % n === 0;
    return count === n;
  }

  private onActivity(t: Tagged): void {
    const a: MachineActivity = t.activity;
    // What the SMMU thread shows: a translation, or configuration fetched outside one.
    if (a.kind === 'fetch' && a.what !== 'cmd') this.fetches.push({ what: a.what, addr: a.addr, sid: a.sid, ssid: a.ssid });
    if (a.kind === 'translate') {
      this.smmu = this.lastWalk = { kind: 'translate', tx: a.tx, result: a.result };
      this.fetches = [];
    }
    if (this.replaying) return;
    const filter = (id: string, description: string, details: string): void => {
      if (this.filters.has(id)) this.stop({ reason: 'exception', description, exception: { filter: id, id, description, details } });
    };
    const watch = this.watch.bind(this);
    switch (a.kind) {
      case 'cmo':
        filter('cmo', `CMO: ${a.op} 0x${a.addr.toString(16)}+0x${a.len.toString(16)}`,
          `${a.result.lines} line(s), ${a.result.dirtyLines} dirty${a.result.lost.length ? `, ${a.result.lost.length} run(s) of dirty bytes lost` : ''}`);
        break;
      case 'barrier':
        filter('barrier', `barrier: ${a.barrier}`, a.barrier === 'dsb' ? 'completes earlier stores and CMOs' : 'orders earlier stores before later ones');
        break;
      case 'command':
        if (/CFGI|TLBI|ATC_INV/.test(a.name)) filter('invalidation', `${a.name} consumed`, a.effect);
        break;
      case 'sync':
        filter('sync', 'CMD_SYNC completed', a.msi ? `MSI write of 0x${a.msi.data.toString(16)} to 0x${a.msi.addr.toString(16)}` : 'earlier commands are complete');
        break;
      case 'kho': {
        const k = khoStop(a.event);
        if (k) filter(k.id, k.description, k.details);
        break;
      }
      case 'event':
        filter('fault', `SMMU event ${a.name}${a.recorded ? '' : ' (not recorded)'}`, a.why ?? `event record written at 0x${(a.addr ?? 0).toString(16)}`);
        break;
      case 'store':
        watch(a.addr, a.size, 'write', `CPU store of 0x${a.value.toString(16)} to 0x${a.addr.toString(16)}`);
        break;
      case 'fetch':
        watch(a.addr, a.words.length * 8, 'read', `SMMU fetch of the ${a.what.toUpperCase()} at 0x${a.addr.toString(16)}`);
        break;
      case 'translate':
        // Descriptors the walk read from memory (the walk cache's are not fetches).
        for (const w of a.result.walk) {
          if (w.source === 'memory') watch(w.descAddr, 8, 'read', `SMMU walk: stage-${w.stage} level-${w.level} descriptor at 0x${w.descAddr.toString(16)}`);
        }
        break;
      default:
        break;
    }
  }

  /** Data breakpoints on [addr, addr+len) for a CPU write or an SMMU read. */
  private watch(addr: number, len: number, access: 'read' | 'write', description: string): void {
    for (const d of this.data) {
      if (d.access !== (access === 'read' ? 'write' : 'read') && addr < d.addr + d.len && d.addr < addr + len && this.hit(d)) {
        this.stop({ reason: 'data breakpoint', description, ids: [d.id] });
      }
    }
  }

  private onOp(op: MicroOp): void {
    this.lastOp = { op, seq: this.runner.ops };
    const left = this.frameStack[this.frameStack.length - 1];
    this.lastOpText = op.op === 'leave' ? `return${left ? ` from ${left}` : ''}` : opText(op);
    this.frameStack = [...this.runner.stack];
    if (this.fetches.length) {
      this.smmu = { kind: 'fetch', fetches: this.fetches };
      this.fetches = [];
    }
    if (this.replaying) return;
    // Bulk CPU writes (memset, memcpy) are not single stores: they are watched here.
    if (op.op === 'write') this.watch(op.addr, op.data.length, 'write', `CPU write of ${op.data.length} bytes at 0x${op.addr.toString(16)}${op.what ? ` (${op.what})` : ''}`);
    if (op.op === 'enter') {
      for (const f of this.functions) {
        if (f.name === op.fn && this.hit(f)) this.stop({ reason: 'function breakpoint', description: `entered ${op.fn}`, ids: [f.id] });
      }
    }
    this.scanHazards();
  }

  /** Hazards found since the last look: a stop for each whose filter is on. */
  private scanHazards(step?: number, atEnd?: boolean): void {
    const hs = this.hazards;
    if (this.replaying) {
      this.hazardsSeen = hs.length;
      return;
    }
    for (; this.hazardsSeen < hs.length; this.hazardsSeen++) {
      const h = hs[this.hazardsSeen];
      const id = HAZARD_PREFIX + h.rule;
      if (this.filters.has(id)) {
        this.stop({
          reason: 'exception', description: `hazard ${h.rule}: ${h.title}`, step, atEnd,
          exception: { filter: id, id: h.rule, description: `${h.severity}: ${h.title}`, details: h.message },
        });
      }
    }
  }

  /** A line breakpoint at the statement about to start, or a function breakpoint on the driver call it makes? */
  private lineStop(step: Step): Pending | undefined {
    const ids: number[] = [];
    for (const b of this.lines) if (b.file === step.range.file && b.line === step.range.start.line && this.hit(b)) ids.push(b.id);
    if (ids.length) return { reason: 'breakpoint', description: `breakpoint at line ${step.range.start.line}`, ids };
    for (const f of this.functions) if (f.name === step.action && this.hit(f)) ids.push(f.id);
    return ids.length ? { reason: 'function breakpoint', description: `about to call ${step.action}`, ids } : undefined;
  }

  // ---- moving forwards ------------------------------------------------------------------

  /**
   * Every statement boundary near the start, then one in 32: a step back replays at most 32
   * statements. And — `near` — a boundary the user is stepping back to or close before it,
   * kept among the last RECENT such, so stepping back again nearby restores at once.
   */
  private snapshotHere(near = false): void {
    const r = this.runner;
    if (r.inStatement || this.snapshots.has(r.next)) return;
    const regular = r.next < 256 || r.next % 32 === 0;
    if (!regular && !near) return;
    this.snapshots.set(r.next, { session: this.session.snapshot(), smmu: this.smmu, lastWalk: this.lastWalk });
    if (regular) return;
    this.recent.push(r.next);
    if (this.recent.length > RECENT) this.snapshots.delete(this.recent.shift()!);
  }

  /**
   * Run forwards until `until` says to stop (checked after each micro-operation and at
   * statement starts), a breakpoint or event stops it, or the run ends.
   */
  private forward(until: (e: OpEvent) => boolean, honourBreakpoints = true): StopInfo {
    this.pending = undefined;
    this.queued = [];
    let first = true;
    let budget = this.sliceOps;
    for (;;) {
      if (budget-- <= 0) return (this.lastStop = { reason: 'pause', description: 'slice', yielded: true });
      const r = this.runner;
      if (!r.inStatement) {
        this.snapshotHere();
        const step = r.current;
        if (step && honourBreakpoints && !(first && this.stoppedAtStatementStart === r.next)) {
          const ls = this.lineStop(step);
          if (ls) {
            this.stoppedAtStatementStart = r.next;
            return this.finishStop(ls);
          }
        }
      }
      first = false;
      const e = this.stepAndRedo();
      if (e.kind === 'end') break;
      if (e.kind === 'error') {
        return this.finishStop({ reason: 'exception', description: `error: ${e.error.message}`, exception: { filter: 'error', id: 'error', description: 'the statement failed', details: e.error.message } });
      }
      if (this.pending && honourBreakpoints) return this.finishStop(this.pending);
      this.pending = undefined;
      this.queued = [];
      if (until(e)) return this.finishStop({ reason: 'step', description: 'step' });
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return this.finishStop({ reason: 'pause', description: 'paused' });
      }
    }
    // What the checker found when the run ended (caches still stale, invalidations never synchronised).
    if (this.pending && honourBreakpoints) return this.finishStop(this.pending);
    this.pending = undefined;
    this.queued = [];
    return this.finishStop({ reason: 'step', description: 'end of the scenario' });
  }

  private finishStop(p: Pending): StopInfo {
    this.pending = undefined;
    // A step that ends before a statement does not stop again at its line breakpoint; an event
    // or hazard at a statement boundary leaves that breakpoint to stop next.
    if (p.reason !== 'breakpoint') this.stoppedAtStatementStart = this.runner.inStatement || p.reason === 'exception' ? -1 : this.runner.next;
    this.lastStop = { reason: p.reason, description: p.description, exception: p.exception, hitBreakpointIds: p.ids, step: p.step, atEnd: p.atEnd };
    return this.lastStop;
  }

  /** Start: stop on entry, or run to the first breakpoint. */
  start(stopOnEntry: boolean): StopInfo {
    if (stopOnEntry) {
      this.snapshotHere();
      this.stoppedAtStatementStart = 0;
      return (this.lastStop = { reason: 'entry', description: 'stopped on entry' });
    }
    return this.continue();
  }

  /** Continue: first any other stop found at the same operation, then onwards. */
  continue(): StopInfo {
    const q = this.queued.shift();
    if (q) {
      const rest = this.queued;
      const stop = this.finishStop(q);
      this.queued = rest;
      return stop;
    }
    return this.forward(() => false);
  }

  /** Step over: to the start of the next statement. */
  next(): StopInfo {
    return this.forward((e) => e.kind === 'statement-end');
  }

  /** Step in: one micro-operation (a CPU step, a frame entry or a note). */
  stepIn(): StopInfo {
    return this.forward((e) => e.kind === 'op' || e.kind === 'statement-end');
  }

  /** Step out: until the innermost driver frame returns, or the statement ends. */
  stepOut(depth = this.runner.stack.length): StopInfo {
    return this.forward((e) => e.kind === 'statement-end' || (e.kind === 'op' && e.op.op === 'leave' && this.runner.stack.length < depth));
  }

  requestPause(): void {
    this.pauseRequested = true;
  }

  /** Consume a pause request (the adapter checks between slices). */
  takePause(): boolean {
    const p = this.pauseRequested;
    this.pauseRequested = false;
    return p;
  }

  /**
   * Change the machine while stopped (a user's edit). It is recorded at this position, so
   * going back before it undoes it and replaying past it does it again.
   */
  edit(apply: (r: Runtime) => void): void {
    const at = this.position;
    this.edits.push({ at, apply });
    apply(this);
    // Snapshots beyond this point came from the run without the edit: restoring one would lose it.
    for (const k of [...this.snapshots.keys()]) if (k > at.next) this.snapshots.delete(k);
    this.recent = this.recent.filter((k) => k <= at.next);
  }

  private applyEditsAt(p: Position): void {
    for (const e of this.edits) if (same(e.at, p)) e.apply(this);
  }

  /**
   * One micro-operation (or statement start/end); when it moves the position, the user's edits
   * recorded at the new position are made again (going forwards past them after a step back).
   */
  private stepAndRedo(): OpEvent {
    const from = this.position;
    const e = this.runner.stepOp();
    const to = this.position;
    if (!same(from, to)) this.applyEditsAt(to);
    return e;
  }

  // ---- moving backwards -------------------------------------------------------------------

  /**
   * Go to an exact position by restoring the nearest earlier snapshot and replaying. A
   * position between statements needs only `next`; one inside a statement, `ops` too.
   */
  goto(target: Position): void {
    let base = -1;
    for (const k of this.snapshots.keys()) if (k > base && (k < target.next || (k === target.next && !target.inStatement))) base = k;
    const snap = this.snapshots.get(base);
    if (snap) {
      this.session.restore(snap.session);
      this.smmu = snap.smmu;
      this.lastWalk = snap.lastWalk;
      // Snapshots are taken between statements: no driver frame is open.
      this.frameStack = [];
    } else {
      this.session = this.newSession();
      this.smmu = this.lastWalk = undefined;
    }
    this.fetches = [];
    this.lastOp = undefined;
    this.lastOpText = undefined;
    this.pending = undefined;
    this.queued = [];
    this.replaying = true;
    try {
      const r = this.runner;
      this.applyEditsAt(this.position);
      for (;;) {
        const short = target.inStatement ? r.next < target.next || r.ops < target.ops : r.next < target.next || r.inStatement;
        if (!short) break;
        const e = this.stepAndRedo();
        if (e.kind === 'end' || e.kind === 'error') break;
        if (!r.inStatement) this.snapshotHere(target.next - r.next < RECENT);
      }
    } finally {
      this.replaying = false;
    }
    this.hazardsSeen = this.hazards.length;
  }

  /** The position before statement `index` starts. */
  private boundary(index: number): Position {
    const snap = this.snapshots.get(index);
    if (snap) return { next: index, ops: snap.session.run.ops, inStatement: false };
    const here = this.position;
    this.goto({ next: index, ops: 0, inStatement: false });
    const pos = this.position;
    this.goto(here);
    return pos;
  }

  /** Step back one micro-operation (`op`) or to the start of the previous statement. */
  stepBack(granularity: 'op' | 'statement'): StopInfo {
    const here = this.position;
    if (here.ops === 0 && here.next === 0) return (this.lastStop = { reason: 'entry', description: 'at the start' });
    const r = this.runner;
    // The start of the current statement if inside one, else of the previous one.
    const start = r.inStatement ? r.next - 1 : Math.max(r.next - 1, 0);
    if (granularity === 'op' && r.inStatement && this.boundary(start).ops < here.ops - 1) {
      this.goto({ next: here.next, ops: here.ops - 1, inStatement: true });
    } else {
      this.goto({ next: start, ops: 0, inStatement: false });
    }
    this.stoppedAtStatementStart = this.runner.inStatement ? -1 : this.runner.next;
    return (this.lastStop = { reason: 'step', description: 'stepped back' });
  }

  /**
   * Run backwards to the last position before this one where a breakpoint or event would
   * stop. The run is searched backwards one stretch between snapshots at a time, so the cost
   * grows with the distance to that stop, not with how far into the run it is.
   */
  reverseContinue(): StopInfo {
    const here = this.position;
    let end = here;
    const bases = [...this.snapshots.keys()].filter((k) => k < here.next || (k === here.next && !here.inStatement)).sort((a, b) => b - a);
    const started = Date.now();
    this.deadline = started + this.requestTimeout * 1000;
    try {
      for (const k of bases) {
        const found = this.scan(k, end);
        if (found === 'timeout') {
          this.deadline = Infinity;
          this.goto(here);
          this.stoppedAtStatementStart = this.runner.inStatement ? -1 : this.runner.next;
          return (this.lastStop = {
            reason: 'pause', description: `reverse-continue searched for ${((Date.now() - started) / 1000).toFixed(1)} s without finding an earlier stop ` +
              `and stayed here (limit requestTimeout, ${this.requestTimeout} s); raise it with the launch option "requestTimeout"`,
          });
        }
        if (found) {
          this.goto(found.pos);
          const p = found.info;
          this.stoppedAtStatementStart = this.runner.inStatement || p.reason === 'exception' ? -1 : this.runner.next;
          return (this.lastStop = { reason: p.reason, description: p.description, exception: p.exception, hitBreakpointIds: p.ids, step: p.step, atEnd: p.atEnd });
        }
        end = { next: k, ops: this.snapshots.get(k)!.session.run.ops, inStatement: false };
      }
    } finally {
      this.deadline = Infinity;
    }
    this.goto({ next: 0, ops: 0, inStatement: false });
    this.stoppedAtStatementStart = 0;
    return (this.lastStop = { reason: 'entry', description: 'reached the start: no earlier breakpoint' });
  }

  /** From the snapshot at statement `k` up to (not including) `end`: the last place a breakpoint or event stops. */
  private scan(k: number, end: Position): { pos: Position; info: Pending } | undefined | 'timeout' {
    this.goto({ next: k, ops: 0, inStatement: false });
    const r = this.runner;
    let last: { pos: Position; info: Pending } | undefined;
    while (before(this.position, end)) {
      if (Date.now() > this.deadline) return 'timeout';
      if (!r.inStatement && r.current) {
        const ls = this.lineStop(r.current);
        if (ls) last = { pos: this.position, info: ls };
      }
      this.pending = undefined;
      this.queued = [];
      const e = this.stepAndRedo();
      if (e.kind === 'end' || e.kind === 'error') break;
      if (this.pending && before(this.position, end)) last = { pos: this.position, info: this.queued[this.queued.length - 1] ?? this.pending };
    }
    this.pending = undefined;
    this.queued = [];
    return last;
  }
}

export { HAZARD_PREFIX };
