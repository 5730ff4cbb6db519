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

export interface LineBreakpoint {
  readonly id: number;
  readonly file: string;
  readonly line: number;
  /** Stop only when it evaluates to true (non-zero). */
  readonly condition?: string;
  /** Stop on the Nth hit (or `>= N`, `% N`). */
  readonly hitCondition?: string;
  hits: number;
}

export interface FunctionBreakpoint {
  readonly id: number;
  readonly name: string;
  readonly condition?: string;
  readonly hitCondition?: string;
  hits: number;
}

export interface DataBreakpoint {
  readonly id: number;
  readonly addr: number;
  readonly len: number;
  /** write: the CPU stores to it; read: the SMMU fetches it; readWrite: either. */
  readonly access: 'read' | 'write' | 'readWrite';
  readonly condition?: string;
  readonly hitCondition?: string;
  hits: number;
}

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto';

export interface StopInfo {
  /** True when the run only paused to let other requests in (it was not asked to stop). */
  readonly yielded?: boolean;
  readonly reason: StopReason;
  readonly description: string;
  /** For event and hazard stops: which filter, and the details. */
  readonly exception?: { readonly filter: string; readonly id: string; readonly description: string; readonly details: string };
  readonly hitBreakpointIds?: readonly number[];
}

/** A position in the run: statements started and micro-operations executed. */
export interface Position {
  readonly next: number;
  readonly ops: number;
  /**
   * Inside statement `next - 1` (after its micro-operation number `ops`) rather than at the boundary
   * before statement `next`: after the last micro-operation of a statement both have the same
   * (next, ops). Undefined: whichever is reached first.
   */
  readonly inside?: boolean;
}

const samePosition = (a: Position, b: Position): boolean => a.next === b.next && a.ops === b.ops && (a.inside ?? false) === (b.inside ?? false);

/** Where a run can stop: before a statement, or after a micro-operation inside one. */
interface Pending {
  reason: StopReason;
  description: string;
  exception?: StopInfo['exception'];
  ids?: number[];
}

const HAZARD_PREFIX = 'hazard:';

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
  private snapshots = new Map<number, SessionSnapshot>();
  lines: LineBreakpoint[] = [];
  functions: FunctionBreakpoint[] = [];
  data: DataBreakpoint[] = [];
  filters = new Set<string>();
  /** Evaluates a breakpoint condition at the current position (set by the adapter). */
  condition: (expr: string) => boolean = () => true;
  private pending?: Pending;
  /** Set while replaying: positions passed are not stops. */
  private replaying = false;
  private pauseRequested = false;
  /** The last stop, for exceptionInfo. */
  lastStop?: StopInfo;
  /** Where the run was stopped before statement `next` began (so continuing from a line breakpoint moves on). */
  private stoppedAtStatementStart = -1;
  /** Most micro-operations one call runs before yielding (`yielded` stop), so a pause can get in. */
  sliceOps = Infinity;
  /** Changes made by the user while stopped (setVariable, writeMemory), replayed at their position. */
  private edits: { next: number; ops: number; apply: (r: Runtime) => void }[] = [];

  constructor(readonly program: Program, private readonly opts: SessionOptions = {}) {
    this.session = this.newSession();
  }

  private newSession(): Session {
    const s = new Session(this.program, this.opts);
    s.runner.observe((t) => this.onActivity(t));
    s.runner.afterOp((op) => this.onOp(op));
    // The checker also judges at the end of a statement (torn updates, stale caches) and at the
    // end of the run: those hazards stop the run there, not at some later micro-operation.
    s.runner.afterStatement(() => this.scanHazards());
    s.runner.atEnd(() => this.scanHazards());
    this.frameStack = [];
    return s;
  }

  /** The driver frames after the last micro-operation, to name the function a `leave` returns from. */
  private frameStack: string[] = [];

  /**
   * The micro-operation performed last, as one line: what the top stack frame shows when the run
   * stops inside a statement (frame entries and exits included: `call f (…)`, `return from f`).
   */
  lastOpText?: string;

  get runner() {
    return this.session.runner;
  }

  get position(): Position {
    return { next: this.runner.next, ops: this.runner.ops, inside: this.runner.inStatement };
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
    if (this.replaying || this.pending) return;
    this.pending = p;
  }

  private hit(bp: { hits: number; condition?: string; hitCondition?: string }): boolean {
    if (bp.condition && !this.condition(bp.condition)) return false;
    bp.hits++;
    const h = bp.hitCondition?.trim();
    if (!h) return true;
    const m = /^(>=|==|%)?\s*(\d+)$/.exec(h);
    if (!m) return true;
    const n = Number(m[2]);
    if (m[1] === '>=') return bp.hits >= n;
    if (m[1] === '%') return n > 0 && bp.hits % n === 0;
    return bp.hits === n;
  }

  private onActivity(t: Tagged): void {
    const a: MachineActivity = t.activity;
    const filter = (id: string, description: string, details: string): void => {
      if (this.filters.has(id)) this.stop({ reason: 'exception', description, exception: { filter: id, id, description, details } });
    };
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
        for (const d of this.data) {
          if (d.access !== 'read' && a.addr < d.addr + d.len && d.addr < a.addr + a.size && this.hit(d)) {
            this.stop({ reason: 'data breakpoint', description: `CPU store of 0x${a.value.toString(16)} to 0x${a.addr.toString(16)}`, ids: [d.id] });
          }
        }
        break;
      case 'fetch':
        for (const d of this.data) {
          if (d.access !== 'write' && a.addr < d.addr + d.len && d.addr < a.addr + a.words.length * 8 && this.hit(d)) {
            this.stop({ reason: 'data breakpoint', description: `SMMU fetch of the ${a.what.toUpperCase()} at 0x${a.addr.toString(16)}`, ids: [d.id] });
          }
        }
        break;
      default:
        break;
    }
  }

  private hazardsSeen = 0;

  private onOp(op: MicroOp): void {
    const left = this.frameStack[this.frameStack.length - 1];
    this.lastOpText = op.op === 'leave' ? `return${left ? ` from ${left}` : ''}` : opText(op);
    this.frameStack = [...this.runner.stack];
    if (op.op === 'enter') {
      for (const f of this.functions) {
        if (f.name === op.fn && this.hit(f)) this.stop({ reason: 'function breakpoint', description: `entered ${op.fn}`, ids: [f.id] });
      }
    }
    this.scanHazards();
  }

  /** Stop for the hazards found since the last look whose filter is on. */
  private scanHazards(): void {
    const hs = this.hazards;
    for (; this.hazardsSeen < hs.length; this.hazardsSeen++) {
      const h = hs[this.hazardsSeen];
      const id = HAZARD_PREFIX + h.rule;
      if (this.filters.has(id)) {
        this.stop({ reason: 'exception', description: `hazard ${h.rule}: ${h.title}`, exception: { filter: id, id: h.rule, description: `${h.severity}: ${h.title}`, details: h.message } });
      }
    }
  }

  /** A line breakpoint at the statement about to start? */
  private lineStop(step: Step): Pending | undefined {
    const ids: number[] = [];
    for (const b of this.lines) if (b.file === step.range.file && b.line === step.range.start.line && this.hit(b)) ids.push(b.id);
    return ids.length ? { reason: 'breakpoint', description: `breakpoint at line ${step.range.start.line}`, ids } : undefined;
  }

  // ---- moving forwards ------------------------------------------------------------------

  private snapshotHere(): void {
    const r = this.runner;
    if (r.inStatement || this.snapshots.has(r.next)) return;
    // Every statement boundary near the start, then one in 32: a step back replays at most 32 statements.
    if (r.next < 256 || r.next % 32 === 0) this.snapshots.set(r.next, this.session.snapshot());
  }

  /**
   * Run forwards until `until` says to stop (checked after each micro-operation and at
   * statement starts), a breakpoint or event stops it, or the run ends.
   */
  private forward(until: (e: OpEvent) => boolean, honourBreakpoints = true): StopInfo {
    this.pending = undefined;
    let first = true;
    let budget = this.sliceOps;
    for (;;) {
      if (budget-- <= 0) return (this.lastStop = { reason: 'pause', description: 'slice', yielded: true });
      const r = this.runner;
      if (!r.inStatement) {
        this.snapshotHere();
        // Past the last statement the step below ends the run (the checker's final judgement included).
        const step = r.current;
        if (step && honourBreakpoints && !this.replaying && !(first && this.stoppedAtStatementStart === r.next)) {
          const ls = this.lineStop(step);
          if (ls) {
            this.stoppedAtStatementStart = r.next;
            return this.finishStop(ls);
          }
        }
      }
      first = false;
      const e = this.stepAndRedo();
      if (e.kind === 'end') {
        // A hazard the checker finds when the run ends (what is still stale at the end).
        if (this.pending && honourBreakpoints) return this.finishStop(this.pending);
        break;
      }
      if (e.kind === 'error') {
        return this.finishStop({ reason: 'exception', description: `error: ${e.error.message}`, exception: { filter: 'error', id: 'error', description: 'the statement failed', details: e.error.message } });
      }
      if (this.pending && honourBreakpoints) return this.finishStop(this.pending);
      this.pending = undefined;
      if (until(e)) return this.finishStop({ reason: 'step', description: 'step' });
      if (this.pauseRequested) {
        this.pauseRequested = false;
        return this.finishStop({ reason: 'pause', description: 'paused' });
      }
    }
    return this.finishStop({ reason: 'step', description: 'end of the scenario' });
  }

  private finishStop(p: Pending): StopInfo {
    this.pending = undefined;
    if (p.reason !== 'breakpoint') this.stoppedAtStatementStart = this.runner.inStatement ? -1 : this.runner.next;
    this.lastStop = { reason: p.reason, description: p.description, exception: p.exception, hitBreakpointIds: p.ids };
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

  continue(): StopInfo {
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
  stepOut(): StopInfo {
    const depth = this.runner.stack.length;
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
    const here = this.position;
    this.edits.push({ ...here, apply });
    apply(this);
  }

  private applyEditsAt(p: Position): void {
    for (const e of this.edits) if (samePosition(e, p)) e.apply(this);
  }

  /**
   * One micro-operation (or statement start/end); when it moves the position, the user's edits
   * recorded at the new position are made again (going forwards past them after a step back).
   */
  private stepAndRedo(): OpEvent {
    const before = this.position;
    const e = this.runner.stepOp();
    const after = this.position;
    if (!samePosition(before, after)) this.applyEditsAt(after);
    return e;
  }

  // ---- moving backwards -------------------------------------------------------------------

  /** Go to an exact position by restoring the nearest earlier snapshot and replaying. */
  goto(target: Position): void {
    // Inside statement next-1 is before the boundary `next`: start from a snapshot before that statement.
    const limit = target.inside ? target.next - 1 : target.next;
    let base = -1;
    for (const k of this.snapshots.keys()) if (k <= limit && k > base) base = k;
    const snap = base >= 0 ? this.snapshots.get(base)! : undefined;
    if (snap) {
      this.session.restore(snap);
      // Snapshots are taken between statements: no driver frame is open.
      this.frameStack = [];
    } else {
      this.session = this.newSession();
    }
    this.hazardsSeen = this.hazards.length;
    this.replaying = true;
    try {
      const r = this.runner;
      this.applyEditsAt(this.position);
      for (;;) {
        if (!(r.ops < target.ops || (r.next < target.next && !r.inStatement) || (target.inside === false && r.inStatement))) break;
        const e = this.stepAndRedo();
        if (e.kind === 'end' || e.kind === 'error') break;
        if (!r.inStatement) this.snapshotHere();
      }
    } finally {
      this.replaying = false;
      this.pending = undefined;
    }
    this.hazardsSeen = this.hazards.length;
  }

  /** Step back one micro-operation (`op`) or to the start of the previous statement. */
  stepBack(granularity: 'op' | 'statement'): StopInfo {
    const here = this.position;
    if (here.ops === 0 && here.next === 0) return (this.lastStop = { reason: 'entry', description: 'at the start' });
    if (granularity === 'op' && this.runner.inStatement) {
      const start = this.statementStart();
      // One micro-operation back: still inside the statement, or at its start.
      this.goto(here.ops - 1 > start.ops ? { next: start.next + 1, ops: here.ops - 1, inside: true } : start);
    } else {
      // The start of the current statement if inside one, else of the previous one.
      const target = this.runner.inStatement ? this.statementStart() : this.boundaryBefore(here.next - 1);
      this.goto(target);
    }
    this.stoppedAtStatementStart = this.runner.inStatement ? -1 : this.runner.next;
    return (this.lastStop = { reason: 'step', description: 'stepped back' });
  }

  /** Where the current statement began. */
  private statementStart(): Position {
    return this.boundaryBefore(this.runner.next - 1);
  }

  /** The position before statement `index` starts (ops counted by replaying from the nearest snapshot). */
  private boundaryBefore(index: number): Position {
    if (index <= 0) return { next: 0, ops: 0, inside: false };
    const snap = this.snapshots.get(index);
    if (snap) return { next: index, ops: snap.run.ops, inside: false };
    // Replay from the nearest snapshot to find the op count at that boundary.
    const here = this.position;
    let base = 0;
    for (const k of this.snapshots.keys()) if (k <= index && k > base) base = k;
    this.goto({ next: base, ops: this.snapshots.get(base)?.run.ops ?? 0 });
    this.replaying = true;
    try {
      const r = this.runner;
      while (r.next < index || r.inStatement) {
        const e = this.stepAndRedo();
        if (e.kind === 'end' || e.kind === 'error') break;
      }
    } finally {
      this.replaying = false;
    }
    const pos = this.position;
    this.goto(here);
    return pos;
  }

  /** Run backwards to the last position before this one where a breakpoint or event would stop. */
  reverseContinue(): StopInfo {
    const here = this.position;
    // At a statement boundary, a stop after the last micro-operation of the statement before
    // has the same (next, ops) but comes first.
    const hereAtBoundary = !here.inside;
    let stopAt: { pos: Position; info: Pending } | undefined;
    // Replay from the start, remembering the last stop before `here`.
    this.goto({ next: 0, ops: 0 });
    for (const b of [...this.lines, ...this.functions, ...this.data]) b.hits = 0;
    for (;;) {
      const r = this.runner;
      if (r.ops >= here.ops && !(r.ops === here.ops && r.next < here.next)) break;
      if (!r.inStatement && r.current) {
        const ls = this.lineStop(r.current);
        if (ls && (r.ops < here.ops || r.next < here.next)) stopAt = { pos: this.position, info: ls };
      }
      this.pending = undefined;
      const e = this.stepAndRedo();
      if (e.kind === 'end' || e.kind === 'error') break;
      if (this.pending && (r.ops < here.ops || (r.ops === here.ops && hereAtBoundary && r.inStatement))) stopAt = { pos: this.position, info: this.pending };
    }
    this.pending = undefined;
    if (!stopAt) {
      this.goto({ next: 0, ops: 0 });
      this.stoppedAtStatementStart = 0;
      return (this.lastStop = { reason: 'entry', description: 'reached the start: no earlier breakpoint' });
    }
    this.goto(stopAt.pos);
    this.stoppedAtStatementStart = this.runner.inStatement ? -1 : this.runner.next;
    return (this.lastStop = { reason: stopAt.info.reason, description: stopAt.info.description, exception: stopAt.info.exception, hitBreakpointIds: stopAt.info.ids });
  }

  /** Start again from the beginning (same breakpoints). */
  restart(): void {
    this.snapshots = new Map();
    this.edits = [];
    this.session = this.newSession();
    this.hazardsSeen = 0;
    this.stoppedAtStatementStart = -1;
    for (const b of [...this.lines, ...this.functions, ...this.data]) b.hits = 0;
  }
}

export { HAZARD_PREFIX };
