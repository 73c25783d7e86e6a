-- CreateTable
CREATE TABLE "TrialAttention" (
    "trialId" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "layer" INTEGER NOT NULL,
    "grid" INTEGER NOT NULL,
    "maps" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TrialAttention_pkey" PRIMARY KEY ("trialId","dataset","layer")
);

-- AddForeignKey
ALTER TABLE "TrialAttention" ADD CONSTRAINT "TrialAttention_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;
