/** Nix's delete-duplicate setup: one file added to the overlay store and to the lower store, so both layers hold its path. */
import assert from 'node:assert/strict';
import type { AgentScenario } from '../support/agent-child.ts';
import { parseAssignments } from '../support/nix-overlay-fixture.ts';

/** Adds a file named `file` holding `contents` through the overlay store, then to the lower store; returns its store path. */
export function addToBothLayers(s: AgentScenario, file: string, contents: string): string {
  const made = parseAssignments(
    s.ns.bash(`
      cd "$(dirname "$EXPR")"
      echo '${contents}' > ${file}
      echo upper=$(nix-store --store "$B" --add ${file})
      echo lower=$(nix-store --store "$A" --add ${file})
    `),
  );
  assert.equal(made['upper'], made['lower'], 'the same store path in both layers');
  return made['upper']!;
}
