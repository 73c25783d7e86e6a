// Tests generate their datasets with the same generator the demo uses.
export * from '../../data/synthetic/shapes-dataset.ts';
