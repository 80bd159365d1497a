// The CLI as a library, for tests and for embedding: the program and its exit codes.
export { buildProgram, run } from './program.js';
export { ExitCode, CliError, exitCodeHelp } from './exit-codes.js';
export { doctorReportSchema, doctorJsonSchema, type DoctorReport, type CheckResult } from './doctor/report.js';
