import type pg from 'pg';
import type { Queryable } from './migrate.ts';

type Query = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/**
 * The database as seen by one read-only request: a statement sent twice with the same text and parameters runs once
 * and both callers share its answer (rows included, so they must not change them). The tables of one dashboard page
 * ask the same questions — which sweeps, which values each factor takes, which factor combinations exist, and often
 * the same grouping — and each answer costs a scan of every trial. Only for the span of one request: a later one must
 * see new results. A statement that fails is forgotten, so that nothing keeps a failure.
 */
export function sharedReads<T extends Queryable>(db: T): T {
  const answers = new Map<string, Promise<pg.QueryResult>>();
  const query = (db.query as Query).bind(db);
  const shared: Query = (text, values = []) => {
    const key = JSON.stringify([text, values]);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const answer = query(text, values);
    answers.set(key, answer);
    answer.catch(() => answers.delete(key));
    return answer;
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'query')
        return (text: unknown, values?: unknown[]) =>
          typeof text === 'string'
            ? shared(text, values)
            : (target.query as (...args: unknown[]) => unknown)(text, values);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
