/**
 * Hands each concurrently running trial its own GPU: slot i of N is CUDA_VISIBLE_DEVICES=i (or the i-th entry of an
 * explicit device list). A worker without GPUs runs its slots with no device setting.
 */
export class GpuSlots {
  private readonly free: string[];

  constructor(devices: string[]) {
    this.free = [...devices];
  }

  static forSlots(slots: number, devices?: string[]): GpuSlots {
    const list = devices ?? Array.from({ length: slots }, (_, i) => String(i));
    if (list.length < slots) throw new Error(`--slots ${slots} needs ${slots} GPUs, got ${list.length} (${list.join(',')})`);
    return new GpuSlots(list.slice(0, slots));
  }

  acquire(): string | undefined {
    return this.free.shift();
  }

  release(device: string | undefined): void {
    if (device !== undefined) this.free.push(device);
  }
}
