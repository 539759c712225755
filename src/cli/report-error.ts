// How the command line reports a failure: `xlmt: CODE: message` on stderr (or the error as JSON with --json),
// and the exit status of the error's kind (docs/errors.md).
import { CommanderError } from 'commander';
import { toXlmtError, XlmtError } from '../errors/index.ts';

/** Commander's own failures (an unknown flag, a missing value, a bad argument) as usage errors naming the flag. */
export function fromCommander(error: CommanderError): XlmtError {
  const message = error.message.replace(/^error: /, '');
  const hint = 'Run the command with --help for its flags';
  // A flag's parser refused its value: commander wraps the parser's own message, which names the flag already.
  const invalid = /^option '(-[-\w]+)[^']*' argument '(.*)' is invalid\. ([\s\S]*)$/.exec(message);
  if (invalid) {
    const [, flag = '', received = '', reason = ''] = invalid;
    const problem = reason.startsWith(`${flag} `) ? reason.slice(flag.length + 1) : reason;
    return new XlmtError({ code: 'BAD_OPTION', message: problem, where: { field: flag }, details: { value: received } });
  }
  const flag = /'(-[-\w]+)/.exec(message)?.[1] ?? /(--[\w-]+)/.exec(message)?.[1];
  const code = error.code === 'commander.missingMandatoryOptionValue' ? 'MISSING_OPTION' : 'BAD_OPTION';
  return new XlmtError({ code, message, ...(flag === undefined ? {} : { where: { field: flag } }), hint });
}

/** Prints the error and returns the exit status. */
export function reportError(error: unknown, json: boolean): number {
  const e = error instanceof CommanderError ? fromCommander(error) : toXlmtError(error);
  if (json) {
    const withStack = e.kind === 'internal' && e.cause instanceof Error ? { ...e.toJSON(), stack: e.cause.stack } : e.toJSON();
    process.stderr.write(`${JSON.stringify({ error: withStack })}\n`);
  } else {
    process.stderr.write(`xlmt: ${e.code}: ${e.message}\n`);
    if (e.kind === 'internal' && e.cause instanceof Error && e.cause.stack !== undefined) process.stderr.write(`${e.cause.stack}\n`);
  }
  return e.exitStatus;
}
