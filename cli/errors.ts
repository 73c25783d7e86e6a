/**
 * An error caused by the user's input or environment (bad file, unreachable server, missing dataset).
 * The CLI prints its message as one line and exits with `exitCode`; anything else is a bug and says so.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
