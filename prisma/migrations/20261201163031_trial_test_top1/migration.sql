-- AlterTable
ALTER TABLE "Trial" ADD COLUMN     "testTop1" DOUBLE PRECISION;

-- Backfill: each trial's own test-split result on its dataset, as upsertManyResults now writes it.
UPDATE "Trial" t SET "testTop1" = r.top1
  FROM "TrialResult" r
 WHERE r."trialId" = t.id AND r."evalDataset" = t.dataset AND r.split = 'test';
