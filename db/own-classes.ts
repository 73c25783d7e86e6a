/**
 * The result subset a trial is scored on when a query does not ask for one, for a trial aliased `alias`: its own
 * classes, which are the base half under base-to-novel (where the novel half is a result row of its own), else all of
 * them. One definition for the `testTop1` copy (repositories.ts) and the aggregation (ablation.ts).
 */
export const OWN_CLASSES_SQL = (alias: string): string =>
  `CASE WHEN ${alias}."subsampleClasses" = 'base' THEN 'base' ELSE 'all' END`;
