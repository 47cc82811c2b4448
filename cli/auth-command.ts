/** `crowdline auth`: manage the credentials file read by `serve --auth FILE`. */
import type { Argv, CommandModule } from 'yargs';
import { ROLES, type Role } from '../src/auth/credentials.js';
import { addClient, listClients, removeClient } from '../src/auth/edit-credentials.js';

interface AuthArgv {
  action: 'add' | 'remove' | 'list';
  name?: string;
  file: string;
  camera?: string[];
  role: Role;
}

export const authCommand: CommandModule<object, AuthArgv> = {
  command: 'auth <action> [name]',
  describe: 'Manage identities in a credentials file (cameras, console viewers and admins): add NAME (prints its token once), remove NAME, list',
  builder: (yargs: Argv) =>
    yargs
      .positional('action', { choices: ['add', 'remove', 'list'] as const, demandOption: true })
      .positional('name', { type: 'string', describe: 'client identity (labels logs and metrics)' })
      .option('file', { type: 'string', default: 'crowdline-credentials.yaml', describe: 'credentials file (.yaml or .json); created with mode 600' })
      .option('camera', { type: 'string', array: true, describe: 'with add: camera names this identity may use (repeatable; default: any)' })
      .option('role', {
        choices: ROLES,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- yargs infers the option's type from its default (as for --device)
        default: 'camera' as Role,
        describe:
          'with add: camera sends frames; viewer signs in to the console and watches; admin also changes settings there (entries without a role are cameras)',
      })
      .example('$0 auth add control-room --role viewer', 'a token for the console (crowdline serve --auth FILE; the page asks for it once)')
      .example('$0 auth add station-north --camera north-1 --camera north-2', 'prints the token: give it to the client (crowdline client --token-file)')
      .example('$0 auth remove station-north', 'then send SIGHUP to the server: the token stops working'),
  handler: async (argv) => {
    const needName = (): string => {
      if (!argv.name) throw new Error(`auth ${argv.action} needs a NAME`);
      return argv.name;
    };
    if (argv.action === 'add') {
      const token = await addClient(argv.file, needName(), argv.camera, argv.role);
      process.stderr.write(`added "${argv.name}" to ${argv.file}. Its token (shown only now; store it in a file readable by the client alone):\n`);
      process.stdout.write(`${token}\n`);
    } else if (argv.action === 'remove') {
      removeClient(argv.file, needName());
      process.stderr.write(`removed "${argv.name}" from ${argv.file}; send SIGHUP to a running server to apply\n`);
    } else {
      for (const line of listClients(argv.file)) process.stdout.write(`${line}\n`);
    }
  },
};
