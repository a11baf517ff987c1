/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.ts';
import { layoutCommand } from './layout.ts';
import { demoCommand } from './demo.ts';

export const COMMANDS: readonly Command[] = [layoutCommand, demoCommand];
