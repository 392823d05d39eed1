import { logger } from '@nx/devkit';
import { InputError, InputErrors } from '../model/errors';

/**
 * Logs why an image step failed, as the executors report failures (never a stack trace for a
 * user's mistake): an {@link InputError} / {@link InputErrors} as its own lines
 * (`<file>: <field>: <problem>; <fix>`), any other error as `<step>: <message>`; the stack only
 * with `NX_VERBOSE_LOGGING=true`.
 * @param step the executor's short name (`rootfs`, `image`, `boot`)
 */
export function reportFailure(step: string, e: unknown): void {
  if (e instanceof InputError || e instanceof InputErrors) {
    logger.error(e.message);
    return;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  logger.error(`${step}: ${err.message}`);
  if (process.env.NX_VERBOSE_LOGGING === 'true' && err.stack) logger.error(err.stack);
}
