#!/usr/bin/env node
// The `coffre` command line. See `coffre --help`.
import { run } from './program.js';

const code = await run(process.argv);
// Leftover keep-alive sockets or Redis reconnect timers must not hold the exit: the outcome is known.
process.exit(code);
