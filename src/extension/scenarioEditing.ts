/**
 * Writing scenarios: parser and compiler errors in the Problems panel while typing, the
 * hazards and failed expectations of the last run on their lines, "Run scenario" and
 * "Debug scenario" code lenses, the Run command itself, and an outline of the scenario's
 * sections and definitions.
 */
import * as vscode from 'vscode';
import { foldingRanges, scenarioSections } from '../scenario/sections';
import { RULES } from '../check/rules';
import { compileScenario, type SourceHost } from '../scenario/compiler';
import { Diagnostic as ScenarioDiagnostic } from '../scenario/diagnostics';
import type { RunSummary } from './engine';
import type { EngineAccess } from './activation';
import { hostFromSnapshot } from './hostSnapshot';
import { openTexts, prefetch, prefetchDumps, snapshotFor, toPath, toUri } from './sources';

function toRange(d: { range: ScenarioDiagnostic['range'] }): vscode.Range {
  const s = d.range.start;
  const e = d.range.end;
  return new vscode.Range(s.line - 1, s.col - 1, Math.max(e.line - 1, s.line - 1), Math.max(e.col - 1, s.col));
}

const SEVERITY = { error: vscode.DiagnosticSeverity.Error, warning: vscode.DiagnosticSeverity.Warning, info: vscode.DiagnosticSeverity.Information };

export function registerScenarioEditing(context: vscode.ExtensionContext, engine: EngineAccess, readBinary?: SourceHost['readBinary']): void {
  const syntax = vscode.languages.createDiagnosticCollection('smmu-scenario');
  const runResults = vscode.languages.createDiagnosticCollection('smmu-run');
  const output = vscode.window.createOutputChannel('SMMU Scenario');
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  const check = async (doc: vscode.TextDocument): Promise<void> => {
    if (doc.languageId !== 'smmu-scenario') return;
    const path = toPath(doc.uri);
    const texts = await prefetch(path, openTexts());
    texts.set(path, doc.getText());
    // Desktop opens a `load`'s dump (its headers) to check it; the browser, which reads dumps whole, only when a run starts.
    const program = compileScenario(path, doc.getText(), hostFromSnapshot(snapshotFor(path, texts, { checkOnly: true }), readBinary), { hazardRules: RULES.map((r) => r.id) });
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const d of program.diagnostics) {
      const diag = new vscode.Diagnostic(toRange(d), d.message, SEVERITY[d.severity]);
      diag.source = 'smmu';
      if (d.suggestion) diag.code = `did you mean ${d.suggestion}`;
      byFile.set(d.range.file, [...(byFile.get(d.range.file) ?? []), diag]);
    }
    syntax.set(doc.uri, byFile.get(path) ?? []);
  };

  const schedule = (doc: vscode.TextDocument): void => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => void check(doc), 250));
  };

  const run = async (uri?: vscode.Uri): Promise<void> => {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target) return;
    const path = toPath(target);
    const texts = await prefetch(path, openTexts());
    const text = texts.get(path);
    if (text === undefined) {
      void vscode.window.showErrorMessage(`Cannot read ${path}`);
      return;
    }
    const dumps = readBinary ? undefined : await prefetchDumps(path, texts, {});
    let r: RunSummary;
    try {
      r = await engine.run(snapshotFor(path, texts, { dumps }));
    } catch (e) {
      void vscode.window.showErrorMessage(`Cannot run ${path}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    output.clear();
    output.show(true);
    if (!r.compiled) {
      output.appendLine(`${path}: the scenario has errors; see the Problems panel`);
      return;
    }
    output.appendLine(`${path}: ${r.failed.length || r.errors.length ? 'FAILED' : 'ok'} — ${r.statements} statements, ${r.ops} operations, ` +
      `${r.expectations - r.failed.length}/${r.expectations} expectations, ${r.hazards.length} hazard(s)`);
    for (const u of r.updates) output.appendLine(`  line ${u.range.start.line}: ${u.target.toUpperCase()} ${u.sid}${u.ssid !== undefined ? ':' + u.ssid : ''} ${u.path}, ${u.syncs} CMD_SYNC(s)`);
    for (const h of r.hazards) output.appendLine(`  line ${h.range.start.line}: ${h.severity}: ${h.rule}: ${h.message}`);
    for (const e of r.failed) output.appendLine(`  line ${e.range.start.line}: ${e.message}`);
    for (const e of r.errors) output.appendLine(`  line ${e.range.start.line}: error: ${e.message}`);
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (file: string, d: vscode.Diagnostic): void => void byFile.set(file, [...(byFile.get(file) ?? []), d]);
    for (const h of r.hazards) {
      const d = new vscode.Diagnostic(toRange(h), `${h.rule}: ${h.message}`,
        h.expected ? vscode.DiagnosticSeverity.Information : h.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
      d.source = 'smmu hazard';
      d.code = h.rule;
      add(h.range.file, d);
    }
    for (const e of r.failed) add(e.range.file, Object.assign(new vscode.Diagnostic(toRange(e), e.message, vscode.DiagnosticSeverity.Error), { source: 'smmu expect' }));
    for (const e of r.errors) add(e.range.file, Object.assign(new vscode.Diagnostic(toRange(e), e.message, vscode.DiagnosticSeverity.Error), { source: 'smmu run' }));
    runResults.clear();
    for (const [file, ds] of byFile) runResults.set(toUri(file), ds);
  };

  context.subscriptions.push(
    syntax, runResults, output,
    vscode.workspace.onDidOpenTextDocument((d) => void check(d)),
    vscode.workspace.onDidChangeTextDocument((e) => schedule(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => syntax.delete(d.uri)),
    vscode.commands.registerCommand('smmuDebug.runScenario', run),
    vscode.languages.registerCodeLensProvider({ language: 'smmu-scenario' }, {
      provideCodeLenses: (doc) => {
        const top = new vscode.Range(0, 0, 0, 0);
        return [
          new vscode.CodeLens(top, { title: '$(play) Run scenario', command: 'smmuDebug.runScenario', arguments: [doc.uri] }),
          new vscode.CodeLens(top, { title: '$(debug-alt) Debug scenario', command: 'smmuDebug.debugScenario', arguments: [doc.uri] }),
        ];
      },
    }),
    vscode.languages.registerDocumentSymbolProvider({ language: 'smmu-scenario' }, { provideDocumentSymbols: (doc) => symbols(doc) }),
    vscode.languages.registerFoldingRangeProvider({ language: 'smmu-scenario' }, {
      provideFoldingRanges: (doc) => foldingRanges(doc.getText()).map((r) => new vscode.FoldingRange(r.start - 1, r.end - 1, vscode.FoldingRangeKind.Region)),
    }),
  );
  for (const d of vscode.workspace.textDocuments) void check(d);
}

/** Sections (`# ---- Title ----` comments, see scenario/sections.ts) holding the names the scenario defines. */
function symbols(doc: vscode.TextDocument): vscode.DocumentSymbol[] {
  const out: vscode.DocumentSymbol[] = [];
  const sections = scenarioSections(doc.getText()).filter((sec) => sec.title);
  const holders = sections.map((sec) => {
    const range = new vscode.Range(sec.line - 1, 0, sec.endLine - 1, doc.lineAt(sec.endLine - 1).text.length);
    const sym = new vscode.DocumentSymbol(sec.title, '', vscode.SymbolKind.Namespace, range, doc.lineAt(sec.line - 1).range);
    out.push(sym);
    return { sec, sym };
  });
  for (let i = 0; i < doc.lineCount; i++) {
    const text = doc.lineAt(i).text;
    const def = /^\s*(alloc|domain|const|traffic)\s+([A-Za-z_]\w*)/.exec(text);
    if (!def) continue;
    const kind = { alloc: vscode.SymbolKind.Variable, domain: vscode.SymbolKind.Class, const: vscode.SymbolKind.Constant, traffic: vscode.SymbolKind.Event }[def[1] as 'alloc'];
    const range = new vscode.Range(i, 0, i, text.length);
    const sym = new vscode.DocumentSymbol(def[2], def[1], kind, range, range);
    const holder = holders.find((h) => h.sec.line - 1 <= i && i <= h.sec.endLine - 1);
    (holder ? holder.sym.children : out).push(sym);
  }
  return out;
}
