/**
 * Every hint in agent/ names commands and flags that exist: each `overlay-warden COMMAND` is in the CLI's command
 * table, and each `--flag` after it is an option of that command (or of every command); a `--flag` with no command
 * before it is an option of some command, unless it follows another tool's name (nix-store, mount, …).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { COMMANDS } from '../../agent/cli/commands/index.ts';
import { COMMON_OPTIONS } from '../../agent/cli/run-cli.ts';

const AGENT = fileURLToPath(new URL('../../agent/', import.meta.url));
/** Stands in for a `${…}` of a template: a value, not a command name. */
const HOLE = '‹value›';
/** Words that follow "overlay-warden" in prose, where it is the program, not a command line (e.g. "overlay-warden starts afresh"). */
const PROSE = new Set(['as', 'at', 'may', 'starts', 'checks', 'once', 'itself', 'knows', 'write', 'reads', 'watches', 'is', 'does', 'sees', 'has']);
/** Other programs whose flags hints name. */
const FOREIGN = new Set(['nix-store', 'nix', 'nix-build', 'nix-hash', 'nix-collect-garbage', 'mount', 'umount', 'getfattr', 'setfattr', 'xfs_info']);

interface Hint {
  readonly where: string;
  readonly text: string;
}

function agentFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? agentFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** The texts of the string literals and templates in `node` (a template's `${…}` reads as HOLE). */
function texts(node: ts.Node): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isTemplateExpression(node)) return [node.head.text + node.templateSpans.map((span) => HOLE + span.literal.text).join('')];
  return node.getChildren().flatMap(texts);
}

/**
 * The hint texts of a source file: `hint:` properties, the fifth argument of `finding(…)`, and whatever variables
 * and functions named like a hint hold or return.
 */
function hintsOf(file: string): Hint[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const hints: Hint[] = [];
  const add = (node: ts.Node | undefined): void => {
    if (node === undefined) return;
    const { line } = source.getLineAndCharacterOfPosition(node.getStart());
    for (const text of texts(node)) hints.push({ where: `${path.relative(AGENT, file)}:${line + 1}`, text });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAssignment(node) && node.name.getText() === 'hint') add(node.initializer);
    else if (ts.isCallExpression(node) && node.expression.getText() === 'finding') add(node.arguments[4]);
    else if (ts.isVariableDeclaration(node) && /hint/i.test(node.name.getText())) add(node.initializer);
    else if (ts.isFunctionDeclaration(node) && /hint/i.test(node.name?.getText() ?? '')) add(node.body);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hints;
}

/** The options of each command, and of all; COMMANDS loads each command module once. */
async function commandOptions(): Promise<Map<string, ReadonlySet<string>>> {
  const options = new Map<string, ReadonlySet<string>>();
  for (const entry of COMMANDS) options.set(entry.name, new Set([...Object.keys(COMMON_OPTIONS), ...Object.keys((await entry.load()).options)]));
  return options;
}

/** What a hint claims exists and does not: `overlay-warden X` for an X no command is, a flag no command takes. */
export function unknownMentions(text: string, options: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const problems: string[] = [];
  const anyCommand = new Set([...options.values()].flatMap((set) => [...set]));
  // Clauses: a flag belongs to the command or program named before it in the same clause.
  for (const clause of text.split(/[,;()`'"]| or | and /)) {
    let owner: 'none' | 'foreign' | 'hole' | string = 'none';
    const words = clause.split(/\s+/).filter((w) => w !== '');
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!.replace(/[.:!?]+$/, '');
      if (word === 'overlay-warden' && i + 1 < words.length) {
        const command = words[i + 1]!.replace(/[.:!?]+$/, '');
        if (PROSE.has(command)) continue;
        i++;
        if (command === HOLE) owner = 'hole';
        else if (options.has(command)) owner = command;
        else {
          problems.push(`overlay-warden ${command}: no such command`);
          owner = 'foreign';
        }
      } else if (FOREIGN.has(word)) {
        owner = 'foreign';
      } else if (word.startsWith('--')) {
        const flag = word.slice(2).replace(/=.*$/, '');
        if (owner === 'foreign') continue;
        const known = owner === 'none' || owner === 'hole' ? anyCommand.has(flag) : (options.get(owner)?.has(flag) ?? false);
        if (!known) problems.push(`${owner === 'none' || owner === 'hole' ? '' : `overlay-warden ${owner} `}--${flag}: no such option`);
      }
    }
  }
  return problems;
}

describe('every hint names commands and options that exist', () => {
  const hints = agentFiles(AGENT).flatMap(hintsOf);

  it('finds the hints of the code base (findings and errors alike)', () => {
    assert.ok(hints.length > 100, `only ${hints.length} hints found: the scan is broken`);
    assert.ok(hints.some((h) => h.where.startsWith('checks/') && h.text.includes('check-mount=false')));
    assert.ok(hints.some((h) => h.where.startsWith('audit/find-duplicate') && h.text.includes('overlay-warden verify')));
  });

  it('tells a command that exists from one that does not, and options likewise (the rules, on literal hints)', async () => {
    const options = await commandOptions();
    assert.deepEqual(unknownMentions('overlay-warden fsck --apply removes upper copies', options), ['overlay-warden fsck: no such command']);
    assert.deepEqual(unknownMentions('overlay-warden dedupe --apply --lock-timeout 120 removes upper copies', options), []);
    assert.deepEqual(unknownMentions('run overlay-warden audit --hash-dupes first', options), ['overlay-warden audit --hash-dupes: no such option']);
    assert.deepEqual(unknownMentions('pass --stor URL', options), ['--stor: no such option']);
    assert.deepEqual(unknownMentions('repair it: nix-store --verify --check-contents --repair (overlay-warden remount --direct)', options), []);
    assert.deepEqual(unknownMentions(`Run overlay-warden as a user who can; overlay-warden starts afresh; overlay-warden ${HOLE} --help`, options), []);
  });

  it('no hint in agent/ names a command or option that does not exist', async () => {
    const options = await commandOptions();
    const problems = hints.flatMap((h) => unknownMentions(h.text, options).map((p) => `${h.where}: ${p} (in "${h.text}")`));
    assert.deepEqual(problems, []);
  });
});
