-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "SweepStatus" AS ENUM ('planned', 'running', 'paused', 'succeeded', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "TrialStatus" AS ENUM ('pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'reused');

-- CreateEnum
CREATE TYPE "AttemptOutcome" AS ENUM ('running', 'succeeded', 'failed', 'cancelled', 'timed_out');

-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "specHash" TEXT NOT NULL,
    "status" "SweepStatus" NOT NULL DEFAULT 'planned',
    "maxParallel" INTEGER NOT NULL,
    "reuseResults" BOOLEAN NOT NULL DEFAULT true,
    "workflowId" TEXT,
    "codeVersion" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Trial" (
    "id" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "configKey" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "backbone" TEXT NOT NULL,
    "shots" INTEGER NOT NULL,
    "seed" INTEGER NOT NULL,
    "lr" DOUBLE PRECISION NOT NULL,
    "lrText" DOUBLE PRECISION,
    "cavptMode" TEXT,
    "cavptLayers" INTEGER,
    "cavptLength" INTEGER,
    "kN" INTEGER,
    "alpha" DOUBLE PRECISION,
    "beta" DOUBLE PRECISION,
    "epochs" INTEGER NOT NULL,
    "evalDatasets" TEXT[],
    "config" JSONB NOT NULL,
    "status" "TrialStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "backend" TEXT,
    "workerId" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "error" TEXT,
    "reusedFromId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Trial_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TrialResult" (
    "trialId" TEXT NOT NULL,
    "evalDataset" TEXT NOT NULL,
    "split" TEXT NOT NULL,
    "top1" DOUBLE PRECISION NOT NULL,
    "correct" INTEGER NOT NULL,
    "total" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TrialResult_pkey" PRIMARY KEY ("trialId","evalDataset","split")
);

-- CreateTable
CREATE TABLE "EpochMetric" (
    "trialId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "loss" DOUBLE PRECISION NOT NULL,
    "lossMain" DOUBLE PRECISION,
    "lossCavpt" DOUBLE PRECISION,
    "lrText" DOUBLE PRECISION,
    "lrVisual" DOUBLE PRECISION,
    "trainAcc" DOUBLE PRECISION,
    "seconds" DOUBLE PRECISION,

    CONSTRAINT "EpochMetric_pkey" PRIMARY KEY ("trialId","epoch")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "trialId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,
    "sha256" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("trialId","epoch")
);

-- CreateTable
CREATE TABLE "TrialAttempt" (
    "trialId" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "workerId" TEXT,
    "backend" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "endedAt" TIMESTAMP(3),
    "outcome" "AttemptOutcome" NOT NULL DEFAULT 'running',
    "error" TEXT,

    CONSTRAINT "TrialAttempt_pkey" PRIMARY KEY ("trialId","attempt")
);

-- CreateIndex
CREATE UNIQUE INDEX "Sweep_name_key" ON "Sweep"("name");

-- CreateIndex
CREATE INDEX "Trial_configKey_status_idx" ON "Trial"("configKey", "status");

-- CreateIndex
CREATE INDEX "Trial_sweepId_status_idx" ON "Trial"("sweepId", "status");

-- CreateIndex
CREATE INDEX "Trial_sweepId_method_dataset_shots_idx" ON "Trial"("sweepId", "method", "dataset", "shots");

-- CreateIndex
CREATE INDEX "Trial_reusedFromId_idx" ON "Trial"("reusedFromId");

-- CreateIndex
CREATE UNIQUE INDEX "Trial_sweepId_configKey_key" ON "Trial"("sweepId", "configKey");

-- AddForeignKey
ALTER TABLE "Trial" ADD CONSTRAINT "Trial_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trial" ADD CONSTRAINT "Trial_reusedFromId_fkey" FOREIGN KEY ("reusedFromId") REFERENCES "Trial"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialResult" ADD CONSTRAINT "TrialResult_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EpochMetric" ADD CONSTRAINT "EpochMetric_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TrialAttempt" ADD CONSTRAINT "TrialAttempt_trialId_fkey" FOREIGN KEY ("trialId") REFERENCES "Trial"("id") ON DELETE CASCADE ON UPDATE CASCADE;
