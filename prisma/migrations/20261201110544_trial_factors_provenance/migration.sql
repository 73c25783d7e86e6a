-- AlterTable
ALTER TABLE "Trial" ADD COLUMN     "batchSize" INTEGER,
ADD COLUMN     "cavptCtxTokens" INTEGER,
ADD COLUMN     "codeVersion" TEXT,
ADD COLUMN     "lrWarmupEpochs" INTEGER,
ADD COLUMN     "splitHash" TEXT,
ADD COLUMN     "textNCtx" INTEGER,
ADD COLUMN     "vptLength" INTEGER,
ADD COLUMN     "warmupEpochs" INTEGER,
ADD COLUMN     "weightsSha256" TEXT,
ALTER COLUMN "lr" DROP NOT NULL,
ALTER COLUMN "epochs" DROP NOT NULL;

-- Backfill: the new factors of existing trials from their stored resolved config, with the same rule as
-- sweep/factors.ts (null where the trial's method does not read the setting; sweep/axes.ts lists the readers).
-- Zero-shot trials stored 0 for "no learning rate" and "no epochs"; they become null like every other factor.
UPDATE "Trial" SET
  "lr" = CASE WHEN method = 'zeroshot' THEN NULL ELSE "lr" END,
  "epochs" = CASE WHEN method = 'zeroshot' THEN NULL ELSE "epochs" END,
  "lrText" = CASE WHEN method IN ('coop', 'vlp', 'dpt') THEN (config #>> '{optim,lrText}')::float8 END,
  "cavptCtxTokens" = CASE WHEN method = 'dpt' THEN (config #>> '{cavpt,ctxTokens}')::int END,
  "warmupEpochs" = CASE WHEN method IN ('vlp', 'dpt') THEN (config #>> '{loss,warmupEpochs}')::int END,
  "lrWarmupEpochs" = CASE WHEN method IN ('vpt', 'vlp', 'dpt') THEN (config #>> '{optim,lrWarmupEpochs}')::int END,
  "vptLength" = CASE WHEN method IN ('vpt', 'vlp', 'dpt') THEN (config #>> '{vpt,length}')::int END,
  "textNCtx" = CASE WHEN method IN ('coop', 'vlp', 'dpt') THEN (config #>> '{text,nCtx}')::int END,
  "batchSize" = CASE WHEN method IN ('coop', 'vpt', 'vlp', 'dpt') THEN (config #>> '{optim,batchSize}')::int END;

-- Trial.attempts counted only the first start of a trial that crashed while running; count its attempt rows.
UPDATE "Trial" t SET attempts = a.n
  FROM (SELECT "trialId", count(*)::int AS n FROM "TrialAttempt" GROUP BY "trialId") a
 WHERE a."trialId" = t.id AND t.attempts IS DISTINCT FROM a.n;
