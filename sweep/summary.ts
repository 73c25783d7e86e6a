import type { SweepPlan } from './expand.ts';
import { protocolOf } from './protocol.ts';
import { describeSearch } from './search/describe.ts';

/** Trial counts of a plan grouped by (method, dataset, shots), in plan order, for `validate` and `launch`. Pure. */
export interface PlanRow {
  method: string;
  dataset: string;
  shots: number;
  trials: number;
  /** distinct configurations ignoring the seed */
  cells: number;
}

export interface PlanSummary {
  name: string;
  /** the protocol and what it evaluates: the source and targets of a transfer, base/novel of base-to-novel */
  protocol: string;
  evaluates: string;
  mode: string;
  /** what the search does (sweep/search/describe.ts); null without one */
  search: string | null;
  variations: number;
  upperBound: number;
  trials: number;
  duplicates: number;
  distinctCells: number;
  seeds: number[];
  methods: string[];
  datasets: string[];
  shots: number[];
  rows: PlanRow[];
}

export function summarizePlan(plan: SweepPlan): PlanSummary {
  const rows = new Map<string, PlanRow & { seedless: Set<number> }>();
  for (const trial of plan.trials) {
    const { method, dataset, shots } = trial.factors;
    const key = `${method}\u0000${dataset}\u0000${shots}`;
    let row = rows.get(key);
    if (!row) {
      row = { method, dataset, shots, trials: 0, cells: 0, seedless: new Set() };
      rows.set(key, row);
    }
    row.trials += 1;
    row.seedless.add(trial.variation);
  }
  const unique = <T>(values: T[]) => [...new Set(values)];
  const protocol = protocolOf(plan.file.protocol).name;
  const targets = [...new Set(plan.datasets.flatMap((cell) => cell.evalDatasets))];
  return {
    name: plan.file.name,
    protocol,
    evaluates:
      protocol === 'base-to-novel'
        ? "each dataset's base classes (trained on) and its novel classes, apart"
        : targets.length > 0
          ? `the source's test split and ${targets.length} target${targets.length === 1 ? '' : 's'}: ${targets.join(', ')}`
          : "each dataset's test split",
    mode: plan.file.search?.kind === 'tpe' ? 'tpe (search.space)' : (plan.file.vary?.mode ?? 'grid'),
    search: describeSearch(plan),
    variations: plan.variations.length,
    upperBound: plan.upperBound,
    trials: plan.trials.length,
    duplicates: plan.duplicates,
    distinctCells: plan.distinctCells,
    seeds: [...plan.file.seeds],
    methods: unique(plan.trials.map((t) => t.factors.method)),
    datasets: plan.datasets.map((d) => d.dataset),
    shots: [...plan.file.shots],
    rows: [...rows.values()].map(({ seedless, ...row }) => ({ ...row, cells: seedless.size })),
  };
}
