// TLS of the HTTP SQL transport needs a real handshake: a loopback HTTPS server with certificates made by openssl.
// The server certificate names a DNS name only (like CrateDB's), while the transport connects by IP.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlConnectionError } from '../../../shared/errors.js';
import { createHttpSqlTransport } from '../../../shared/adapters/sql-http.js';

let dir: string;
let server: https.Server;
let url: string;
let ca: string;
let otherCa: string;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-tls-'));
  for (const name of ['ca', 'other']) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${name}-ca`,
    ]);
  }
  openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'node.key',
    '-out',
    'node.csr',
    '-subj',
    '/CN=crate-data-hot-0',
  ]);
  fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:crate-data-hot-0.crate-discovery.crate.svc\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'node.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'node.crt',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  ca = fs.readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  otherCa = fs.readFileSync(path.join(dir, 'other.crt'), 'utf8');

  server = https.createServer(
    { key: fs.readFileSync(path.join(dir, 'node.key')), cert: fs.readFileSync(path.join(dir, 'node.crt')) },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ cols: ['1'], rows: [[1]], rowcount: 1 }));
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('HTTP SQL transport over TLS', () => {
  it('verifies the chain against the given CA while connecting by IP', async () => {
    const t = createHttpSqlTransport({ url, username: 'system', password: 'p', ca: async () => ca });
    expect((await t.query('SELECT 1')).rows).toEqual([[1]]);
  });

  it('refuses a certificate from another CA', async () => {
    const t = createHttpSqlTransport({ url, username: 'system', password: 'p', ca: otherCa });
    const err = await t.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SqlConnectionError);
    expect((err as Error).message).toMatch(/TLS verification/);
  });

  it('refuses an unknown CA when no CA is given', async () => {
    const t = createHttpSqlTransport({ url, username: 'system', password: 'p' });
    await expect(t.query('SELECT 1')).rejects.toBeInstanceOf(SqlConnectionError);
  });

  it('connects without verification only when asked explicitly', async () => {
    const t = createHttpSqlTransport({ url, username: 'system', password: 'p', insecureSkipTlsVerify: true });
    expect((await t.query('SELECT 1')).rowcount).toBe(1);
  });
});
