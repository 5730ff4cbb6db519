/** The hex hover's text, without vscode (tested in Node): the likely decodings of the run under the cursor. */
import { describe } from '../arch/codec';
import { guessDecodings, hexRunAt } from '../arch/guess';

/** The Markdown for a run of hex values, or undefined when nothing decodes. */
export function decodeHover(line: string, column: number, context: string, max = 3): { markdown: string; start: number; end: number } | undefined {
  const run = hexRunAt(line, column);
  if (!run) return undefined;
  const guesses = guessDecodings(run, context);
  if (!guesses.length) return undefined;
  const parts = guesses.slice(0, max).map((g, i) => {
    const title = `**${g.decoded.layout.title}** — ${g.decoded.summary}`;
    const body = i === 0 ? '\n\n```text\n' + describe(g.decoded) + '\n```' : '';
    return `${i === 0 ? '' : 'or '}${title}  \n_${g.why}_${body}`;
  });
  return { markdown: parts.join('\n\n'), start: run.start, end: run.end };
}
