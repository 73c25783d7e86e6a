-- AlterEnum
ALTER TYPE "TrialStatus" ADD VALUE 'stopped';

-- AlterTable
ALTER TABLE "Trial" ADD COLUMN     "searchCandidate" INTEGER;

-- CreateTable
CREATE TABLE "TrialValidation" (
    "trialId" TEXT NOT NULL,
    "epochs" INTEGER NOT NULL,
    "top1" DOUBLE PRECISION NOT NULL,
    "correct" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrialValidation_pkey" PRIMARY KEY ("trialId","epochs")
);

-- CreateTable
CREATE TABLE "SearchRung" (
    "sweepId" TEXT NOT NULL,
    "rung" INTEGER NOT NULL,
    "candidate" INTEGER NOT NULL,
    "epochs" INTEGER NOT NULL,
    "objective" DOUBLE PRECISION,
    "promoted" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SearchRung_pkey" PRIMARY KEY ("sweepId","rung","candidate")
);

-- CreateTable
CREATE TABLE "SearchSuggestion" (
    "sweepId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "params" JSONB NOT NULL,
    "trialIds" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SearchSuggestion_pkey" PRIMARY KEY ("sweepId","index")
);

-- AddForeignKey
ALTER TABLE "TrialValidation" ADD CONSTRAINT "TrialValidation_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SearchRung" ADD CONSTRAINT "SearchRung_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SearchSuggestion" ADD CONSTRAINT "SearchSuggestion_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;
