// Replaced by the Temporal provisioning setup in the foundation work.
export default function setup(): void {}
