/** A checkpoint, tokenizer or input that cannot be used; the message names the file or tensor and the cause. */
export class ClipLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClipLoadError';
  }
}
