import type { ConnectionOptions } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';

/** What both the client (`Connection`) and the workers (`NativeConnection`) need to reach a Temporal front end. */
export interface TemporalConnectOptions {
  address: string;
  tls?: Exclude<ConnectionOptions['tls'], null>;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface ConfiguredTemporal {
  connection: TemporalConnectOptions;
  namespace: string;
}

/**
 * The cluster that the Temporal SDK's own environment configuration names, or undefined when it names none (then the
 * local dev server is used). This is the configuration every Temporal tool reads: `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`, `TEMPORAL_TLS_CLIENT_CERT_PATH` / `_KEY_PATH` (mTLS),
 * `TEMPORAL_TLS_SERVER_CA_CERT_PATH`, `TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_GRPC_META_*`, and the profiles of
 * `TEMPORAL_CONFIG_FILE` (default `~/.config/temporalio/temporal.toml`) chosen by `TEMPORAL_PROFILE`; environment
 * variables override the profile. An API key turns TLS on, as in the SDK.
 */
export function configuredTemporal(env: NodeJS.ProcessEnv = process.env): ConfiguredTemporal | undefined {
  const vars = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
  const loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  const options = loaded.connectionOptions;
  if (!options.address) return undefined;
  const connection: TemporalConnectOptions = { address: options.address };
  if (options.tls !== undefined && options.tls !== null && options.tls !== false) connection.tls = options.tls;
  if (typeof options.apiKey === 'string') connection.apiKey = options.apiKey;
  if (options.metadata && Object.keys(options.metadata).length > 0) {
    connection.metadata = Object.fromEntries(
      Object.entries(options.metadata).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  }
  return { connection, namespace: loaded.namespace || 'default' };
}

/** How a connection is secured, for messages: never the secrets themselves. */
export function securityOf(connection: TemporalConnectOptions): string {
  const tls =
    connection.tls === undefined
      ? 'plaintext'
      : typeof connection.tls === 'object' && connection.tls.clientCertPair
        ? 'mTLS'
        : 'TLS';
  return `${tls}${connection.apiKey ? ', API key' : ''}`;
}

/** Address and security, for messages. */
export function describeTemporal(connection: TemporalConnectOptions): string {
  return `${connection.address} (${securityOf(connection)})`;
}

/** Whether a cluster is configured; a configuration that cannot be read counts, so its error gets reported. */
export function hasConfiguredTemporal(env: NodeJS.ProcessEnv = process.env): boolean {
  try {
    return configuredTemporal(env) !== undefined;
  } catch {
    return true;
  }
}
