// Behaviour every SqlTransport must have (fake, HTTP, exec), against a fake node, a mock server or a real CrateDB.
// Call sqlTransportContract() inside a test file; it registers its own describe block.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrateSqlError, SqlConnectionError } from '../../shared/errors.js';
import type { SqlTransport } from '../../shared/ports.js';

export interface SqlStatement {
  stmt: string;
  args?: unknown[];
}

export interface SqlTransportFixtures {
  /** A statement the node answers with at least one row (e.g. `SELECT 1`). */
  okQuery: SqlStatement;
  /** A statement the node rejects with a CrateDB JSON error, and the error it gives (e.g. `SELEC 1` -> 400/4000). */
  badQuery: SqlStatement & { httpStatus: number; code: number };
  /** Strings that must never appear in descriptions or error messages (passwords, tokens). */
  secrets?: string[];
  /** A transport to a node nobody answers on (stopped, refused), when the setting can provide one. */
  makeUnreachable: () => SqlTransport | Promise<SqlTransport>;
  cleanup?(): Promise<void>;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the query to fail');
}

export function sqlTransportContract(
  makeTransport: () => SqlTransport | Promise<SqlTransport>,
  makeFixtures: () => SqlTransportFixtures | Promise<SqlTransportFixtures>,
  label = 'SqlTransport contract',
): void {
  describe(label, () => {
    let transport: SqlTransport;
    let fx: SqlTransportFixtures;

    beforeAll(async () => {
      fx = await makeFixtures();
      transport = await makeTransport();
    });
    afterAll(async () => {
      await fx?.cleanup?.();
    });

    const assertNoSecrets = (text: string) => {
      for (const secret of fx.secrets ?? []) expect(text).not.toContain(secret);
    };

    it('describes where and as whom, without secrets', () => {
      expect(transport.description).toMatch(/\S/);
      expect(transport.description).toMatch(/ as \S+/);
      assertNoSecrets(transport.description);
    });

    it('answers a query with cols, rows and rowcount', async () => {
      const result = await transport.query(fx.okQuery.stmt, fx.okQuery.args);
      expect(Array.isArray(result.cols)).toBe(true);
      expect(Array.isArray(result.rows)).toBe(true);
      expect(result.rows.length).toBeGreaterThan(0);
      for (const row of result.rows) expect(Array.isArray(row)).toBe(true);
      expect(typeof result.rowcount).toBe('number');
    });

    it("maps CrateDB's JSON error to CrateSqlError with HTTP status and code", async () => {
      const err = await rejection(transport.query(fx.badQuery.stmt, fx.badQuery.args));
      expect(err).toBeInstanceOf(CrateSqlError);
      expect(err).toMatchObject({ httpStatus: fx.badQuery.httpStatus, code: fx.badQuery.code });
      expect((err as Error).message).toMatch(/\S/);
      assertNoSecrets((err as Error).message);
    });

    it("rejects with the caller's abort reason when the signal is already aborted", async () => {
      const controller = new AbortController();
      const reason = new Error('cancelled by the contract');
      controller.abort(reason);
      const err = await rejection(transport.query(fx.okQuery.stmt, fx.okQuery.args, { signal: controller.signal }));
      expect(err).toBe(reason);
    });

    it('reports an unreachable node as SqlConnectionError', async () => {
      const unreachable = await fx.makeUnreachable();
      const err = await rejection(unreachable.query(fx.okQuery.stmt, fx.okQuery.args, { timeoutMs: 5_000 }));
      expect(err).toBeInstanceOf(SqlConnectionError);
      assertNoSecrets((err as Error).message);
    });
  });
}
