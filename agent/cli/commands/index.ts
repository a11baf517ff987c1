/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.ts';
import { layoutCommand } from './layout.ts';
import { checkCommand } from './check.ts';
import { auditCommand } from './audit.ts';
import { verifyCommand } from './verify.ts';
import { demoCommand } from './demo.ts';
import { remountCommand } from './remount.ts';
import { runCommand } from './run.ts';
import { statusCommand } from './status.ts';

export const COMMANDS: readonly Command[] = [runCommand, checkCommand, auditCommand, verifyCommand, remountCommand, statusCommand, layoutCommand, demoCommand];
