/** Runs the demo's steps: each a real command line run with --json, its text shown, and its verdict judged and shown. */
import { judgeStep, type StepVerdict, type TourCheck } from '../../demo/index.ts';
import type { StoreLayout } from '../../store/index.ts';
import type { CliIo, CommandContext } from '../command.ts';
import type { JsonEnvelope } from '../json-envelope.ts';
import { paint } from '../output.ts';
import { narrate, narrationStream, say } from './demo-narration.ts';
import { demoStepText } from './demo-step-text.ts';
import type { DemoStep } from './demo-steps.ts';

/** One step as `demo --json` reports it: the command line, the envelope that command printed, and the verdict. */
export interface DemoStepResult {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly expected: string;
  readonly asExpected: boolean;
  readonly differences: readonly string[];
  readonly output: JsonEnvelope;
}

/**
 * Runs a step once, with `--json`, keeping its envelope in `steps`; shows the command line, the text the command
 * prints (made from that envelope), what the step expects and whether it came out so. Resolves to that verdict.
 */
export async function runStep(context: CommandContext, step: DemoStep, layout: StoreLayout, steps: DemoStepResult[]): Promise<boolean> {
  const { io, json } = context;
  say(io, json, step.say);
  narrate(io, json, paint(io, narrationStream(json), 'dim', `$ overlay-warden ${step.argv.join(' ')}\n`));
  let stdout = '';
  const exitCode = await context.runCommandLine([...step.argv, '--json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: context.io.stderr,
    env: context.io.env,
  });
  const output = JSON.parse(stdout) as JsonEnvelope;
  const verdict = judgeStep(step.expect, { exitCode, findings: output.findings });
  narrate(io, json, demoStepText(io, output, layout));
  narrate(io, json, verdictLine(io, json, verdict));
  steps.push({ argv: step.argv, exitCode, expected: verdict.expected, asExpected: verdict.asExpected, differences: verdict.differences, output });
  return verdict.asExpected;
}

/** `expected: …  ✓ as expected`, or ✗ with what differed. */
function verdictLine(io: CliIo, json: boolean, verdict: StepVerdict): string {
  const mark = verdict.asExpected
    ? paint(io, narrationStream(json), ['green', 'bold'], '✓ as expected')
    : paint(io, narrationStream(json), ['red', 'bold'], `✗ NOT as expected: ${verdict.differences.join('; ')}`);
  return `${paint(io, narrationStream(json), 'bold', 'expected:')} ${verdict.expected}  ${mark}\n`;
}

/** A check of the agent tour: what it expected, then ✓ or ✗ with what was seen. */
export function reportTourCheck(io: CliIo, json: boolean, check: TourCheck): void {
  const mark = check.asExpected ? paint(io, narrationStream(json), ['green', 'bold'], '✓') : paint(io, narrationStream(json), ['red', 'bold'], '✗');
  narrate(io, json, `\n${paint(io, narrationStream(json), 'bold', 'expected:')} ${check.expected}\n${mark} ${check.what}\n`);
}
