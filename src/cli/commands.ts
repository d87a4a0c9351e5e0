import type { CliCommand } from "./_command.ts";
import { checkConfigCommand } from "./check_config.ts";
import { maintenanceCommand } from "./maintenance.ts";
import { runCommand } from "./run.ts";
import { sendCommandCommand } from "./send_command.ts";
import { ruleHostCommand, testRuleCommand } from "./test_rule.ts";
import { sendConfigCommand } from "./send_config.ts";
import { statusCommand } from "./status.ts";

/** Every `agent` subcommand, in the order `--help` lists them. Add new ones here. */
export const COMMANDS: readonly CliCommand[] = [
  runCommand,
  checkConfigCommand,
  maintenanceCommand,
  sendCommandCommand,
  sendConfigCommand,
  statusCommand,
  testRuleCommand,
  ruleHostCommand,
];
