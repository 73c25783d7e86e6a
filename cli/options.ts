/** Commander's argument parser for a repeatable option (`--set a --set b`): every value, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
