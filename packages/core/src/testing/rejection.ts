import { isLifeboatError, type LifeboatError } from '../errors.js';

/** The LifeboatError a promise rejects with; throws if it resolves or rejects with anything else. */
export async function rejectionOf(promise: Promise<unknown>): Promise<LifeboatError> {
  try {
    await promise;
  } catch (error) {
    if (isLifeboatError(error)) return error;
    throw new Error(`expected a LifeboatError, got: ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection');
}
