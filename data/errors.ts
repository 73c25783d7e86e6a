/**
 * A problem with a dataset on disk or with a request about one: a missing split file, a missing image, an image that
 * does not decode, a label outside the class list, a stale few-shot cache. The message names the file or value at fault, on one line, so the
 * CLI can print it as is.
 */
export class DatasetError extends Error {
  constructor(
    message: string,
    readonly code: DatasetErrorCode,
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

export type DatasetErrorCode =
  | 'unknown-dataset'
  | 'missing-file'
  | 'missing-images'
  | 'bad-image'
  | 'bad-format'
  | 'bad-label'
  | 'bad-request'
  | 'stale-cache';
