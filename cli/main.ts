#!/usr/bin/env node
/** `crowdline` command line: one subcommand per job. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { serveCommand } from './serve-command.js';
import { evalCommand } from './eval-command.js';
import { benchCommand } from './bench-command.js';
import { clientCommand } from './client-command.js';
import { demoCommand } from './demo-command.js';
import { authCommand } from './auth-command.js';
import { zonesCommand } from './zones-command.js';
import { USAGE_EXIT_CODE, UsageError } from '../src/common/usage-error.js';
import { explainOrigin } from './config-sources.js';

const cli = yargs(hideBin(process.argv));
await cli
  .scriptName('crowdline')
  .usage('$0 <command> [options]\n\nLive crowd counting: cameras stream frames over TCP to a density-CNN server.')
  .command(serveCommand)
  .command(benchCommand)
  .command(clientCommand)
  .command(demoCommand)
  .command(evalCommand)
  .command(authCommand)
  .command(zonesCommand)
  .demandCommand(1, 'choose a command')
  .strict()
  .fail((msg, err, y) => {
    if (err) {
      // "--port must be..." says where a bad value came from when it was not the command line.
      process.stderr.write(`crowdline: ${explainOrigin(err.message)}\n`);
    } else {
      y.showHelp('error');
      process.stderr.write(`\n${msg}\n`);
    }
    // Usage and config errors: 2 (yargs' own checks come without an error object); runtime failures: 1.
    process.exit(!err || err instanceof UsageError ? USAGE_EXIT_CODE : 1);
  })
  .help()
  .wrap(Math.min(120, cli.terminalWidth()))
  .parseAsync();
