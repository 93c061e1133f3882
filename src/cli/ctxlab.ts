// Entry point of the `ctxlab` command.
import { main } from './main.js';

// A reader that closes the pipe early (`ctxlab schema | head -1`) ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
