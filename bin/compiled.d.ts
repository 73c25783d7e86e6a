export const SOURCE_DIRS: readonly string[];
export const ROOT_SOURCES: readonly string[];
export const STAMP: string;
export const ENTRY: string;
export function compiledEntry(root: string): string | undefined;
export function sourceMtimes(root: string): number[];
