import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { obtainTemporal, TemporalUnavailableError } from '../../../worker/dev/temporal-server.ts';
import { configuredTemporal } from '../../../worker/temporal-config.ts';

/**
 * `temporal server start-dev` has no TLS flags, so TLS is tested through a TLS-terminating proxy (ALPN h2, client
 * certificates required: mTLS) in front of the suite's dev server, with a CA and certificates made here by openssl.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dpt-tls-'));
const file = (name: string) => path.join(dir, name);
let proxy: tls.Server;
let proxyPort = 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=dpt test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  for (const [name, ext] of [
    ['server', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    fs.writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  }
  const [host, port] = inject('temporalAddress').split(':');
  proxy = tls.createServer(
    {
      key: fs.readFileSync(file('server.key')),
      cert: fs.readFileSync(file('server.pem')),
      ca: fs.readFileSync(file('ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    },
    (socket) => {
      const upstream = net.connect(Number(port), host);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyPort = (proxy.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function mtlsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: dir,
    TEMPORAL_ADDRESS: `127.0.0.1:${proxyPort}`,
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.pem'),
    TEMPORAL_TLS_CLIENT_CERT_PATH: file('client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: file('client.key'),
    ...extra,
  };
}

describe('Temporal over mTLS, configured by TEMPORAL_* variables', () => {
  it('the CLI client and the workers reach a cluster that requires client certificates', async () => {
    const server = await obtainTemporal({ env: mtlsEnv(), allowGoBuild: false, allowSdkDownload: false });
    expect(server.source).toBe('env');
    expect(server.connection?.tls).toMatchObject({ clientCertPair: expect.anything() });
    // What cli/sweeps/stack.ts and worker/workers.ts do with it.
    const client = await Connection.connect(server.connection!);
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.serverVersion).toBeTruthy();
    } finally {
      await client.close();
    }
    const native = await NativeConnection.connect(server.connection!);
    await native.close();
  });

  it('without the client certificate the cluster is unreachable, and the error says so in one line', async () => {
    const env = mtlsEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' });
    const error = await obtainTemporal({
      env,
      allowGoBuild: false,
      allowSdkDownload: false,
      startTimeoutMs: 3_000,
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TemporalUnavailableError);
    expect((error as Error).message).toMatch(/^TEMPORAL_ADDRESS=127\.0\.0\.1:\d+ does not answer \(TLS\): /);
  });
});

describe('configuredTemporal maps the SDK environment configuration', () => {
  it('names no cluster without TEMPORAL_ADDRESS or a profile', () => {
    expect(configuredTemporal({ HOME: dir })).toBeUndefined();
    expect(configuredTemporal({ HOME: dir, TEMPORAL_ADDRESS: '' })).toBeUndefined();
  });

  it('an API key turns TLS on (Temporal Cloud); namespace and headers come along', () => {
    const configured = configuredTemporal({
      HOME: dir,
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'secret-key',
      TEMPORAL_GRPC_META_X_TEAM: 'vision',
    });
    expect(configured).toEqual({
      namespace: 'ns.acct',
      connection: {
        address: 'ns.acct.tmprl.cloud:7233',
        apiKey: 'secret-key',
        tls: true,
        metadata: { 'x-team': 'vision' },
      },
    });
  });

  it('reads a profile from TEMPORAL_CONFIG_FILE, chosen by TEMPORAL_PROFILE, with variables overriding it', () => {
    fs.writeFileSync(
      file('temporal.toml'),
      '[profile.prod]\naddress = "prod.example:7233"\nnamespace = "sweeps"\n[profile.prod.tls]\nserver_name = "prod.example"\n',
    );
    const env = { HOME: dir, TEMPORAL_CONFIG_FILE: file('temporal.toml'), TEMPORAL_PROFILE: 'prod' };
    expect(configuredTemporal(env)).toEqual({
      namespace: 'sweeps',
      connection: { address: 'prod.example:7233', tls: { serverNameOverride: 'prod.example' } },
    });
    expect(configuredTemporal({ ...env, TEMPORAL_NAMESPACE: 'other' })?.namespace).toBe('other');
  });
});
