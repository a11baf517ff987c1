/** Every CLI command, in the order `--help` lists them. */
import type { Command } from '../command.ts';
import { layoutCommand } from './layout.ts';
import { checkCommand } from './check.ts';
import { auditCommand } from './audit.ts';
import { verifyCommand } from './verify.ts';
import { demoCommand } from './demo.ts';
import { remountCommand } from './remount.ts';

export const COMMANDS: readonly Command[] = [layoutCommand, checkCommand, auditCommand, verifyCommand, remountCommand, demoCommand];
