-- AlterTable
ALTER TABLE "Trial" ADD COLUMN     "subsampleClasses" TEXT NOT NULL DEFAULT 'all';

-- AlterTable
ALTER TABLE "TrialResult" DROP CONSTRAINT "TrialResult_pkey",
ADD COLUMN     "classSubset" TEXT NOT NULL DEFAULT 'all',
ADD CONSTRAINT "TrialResult_pkey" PRIMARY KEY ("trialId", "evalDataset", "split", "classSubset");
