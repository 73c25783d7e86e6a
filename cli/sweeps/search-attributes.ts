import { isGrpcServiceError } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../worker/dev/temporal-server.ts';
import { UserError } from '../errors.ts';
import type { Stack } from './stack.ts';

/**
 * Sweep workflows are started with the SweepId and SweepName search attributes, which a namespace must have
 * registered: the embedded dev server registers them at start (worker/dev/temporal-server.ts), a plain
 * `temporal server start-dev` or a cluster does not, and the server then refuses the start with only
 * "Failed to start Workflow". Launch registers what is missing (idempotent), or says who can.
 */

/** gRPC status codes (grpc-js is not a direct dependency; the numbers are the protocol's). */
const GrpcStatus = {
  INVALID_ARGUMENT: 3,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAUTHENTICATED: 16,
};

type AddRequest = Parameters<Stack['client']['connection']['operatorService']['addSearchAttributes']>[0];
type IndexedValueType = NonNullable<AddRequest['searchAttributes']>[string];

/** temporal.api.enums.v1.IndexedValueType, by the names SEARCH_ATTRIBUTES and the Temporal CLI use. */
const INDEXED_VALUE_TYPES: Readonly<Record<string, number>> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5 };

/** Namespaces already checked by this process (resume and launch of many sweeps ask once). */
const checked = new Set<string>();

export type Registration = 'present' | 'registered' | 'not-permitted';

/** Registers the missing search attributes; 'not-permitted' when this identity may not (the start may still work). */
export async function ensureSearchAttributes(stack: Stack): Promise<Registration> {
  const { namespace, address } = stack.temporal;
  const key = `${address}/${namespace}`;
  if (checked.has(key)) return 'present';
  const operator = stack.client.connection.operatorService;
  try {
    const listed = await operator.listSearchAttributes({ namespace });
    const known = new Set([
      ...Object.keys(listed.customAttributes ?? {}),
      ...Object.keys(listed.systemAttributes ?? {}),
    ]);
    const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
    if (missing.length === 0) {
      checked.add(key);
      return 'present';
    }
    const searchAttributes: Record<string, IndexedValueType> = {};
    for (const [name, type] of missing) {
      const encoded = INDEXED_VALUE_TYPES[type];
      if (encoded === undefined) throw new Error(`unknown search attribute type ${type} for ${name}`);
      searchAttributes[name] = encoded as IndexedValueType;
    }
    await operator.addSearchAttributes({ namespace, searchAttributes }).catch((err: unknown) => {
      // Another launch registered them between our list and our add.
      if (isGrpcServiceError(err) && err.code === GrpcStatus.ALREADY_EXISTS) return;
      throw err;
    });
    checked.add(key);
    return 'registered';
  } catch (err) {
    if (isGrpcServiceError(err) && NOT_PERMITTED.has(err.code)) return 'not-permitted';
    throw err;
  }
}

/** What a user without the operator permission is told to have run (Temporal CLI 1.x syntax). */
export function registerCommand(stack: Stack): string {
  const attributes = Object.entries(SEARCH_ATTRIBUTES)
    .map(([name, type]) => `--name ${name} --type ${type}`)
    .join(' ');
  return `temporal operator search-attribute create --address ${stack.temporal.address} --namespace ${stack.temporal.namespace} ${attributes}`;
}

/** The refusal of a start that lacked the attributes, as one line with the fix. */
export function missingAttributesError(stack: Stack, cause: string): UserError {
  return new UserError(
    `Temporal namespace ${stack.temporal.namespace} lacks the sweep search attributes (${cause}) and this identity may not register them; have an operator run: ${registerCommand(stack)}`,
  );
}

/** Does a failed start name a search attribute? (INVALID_ARGUMENT "... no mapping defined for search attribute ..."). */
export function isMissingSearchAttribute(err: unknown): string | undefined {
  const cause = err instanceof Error && isGrpcServiceError(err.cause) ? err.cause : err;
  if (!isGrpcServiceError(cause) || cause.code !== GrpcStatus.INVALID_ARGUMENT) return undefined;
  const details = cause.details ?? cause.message;
  return /search attribute/i.test(details) ? details : undefined;
}

const NOT_PERMITTED = new Set<number>([
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNAUTHENTICATED,
  // Temporal Cloud and some proxies do not expose the operator service.
  GrpcStatus.UNIMPLEMENTED,
]);
