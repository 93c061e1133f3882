// GPU time of the attention kernel's compute passes from timestamp queries (the 'timestamp-query'
// feature, which tfjs-backend-webgpu requests whenever the adapter offers it). Each pass writes a
// begin and an end timestamp; the pairs are resolved and read once, after the last pass.
// Where the device has no such feature, `gpuTime` says so instead of giving a number.

/** GPU ms of the passes timed, or why there is no figure. */
export type GpuTime = { ms: number } | { unavailable: string };

const PAIRS_PER_SET = 2048; // 4096 queries: WebGPU's maximum per query set

export class PassTimer {
  private sets: GPUQuerySet[] = [];
  private pairs = 0;
  readonly why?: string;

  constructor(private readonly device: GPUDevice) {
    if (!device.features.has('timestamp-query')) this.why = "the adapter has no 'timestamp-query' feature";
  }

  /** The timestampWrites of the next pass (undefined when not timing). */
  next(): GPUComputePassTimestampWrites | undefined {
    if (this.why) return undefined;
    const at = this.pairs % PAIRS_PER_SET;
    if (at === 0) this.sets.push(this.device.createQuerySet({ type: 'timestamp', count: 2 * PAIRS_PER_SET }));
    this.pairs++;
    return { querySet: this.sets[this.sets.length - 1]!, beginningOfPassWriteIndex: 2 * at, endOfPassWriteIndex: 2 * at + 1 };
  }

  /** Sums end − begin over the passes timed (after they were submitted), and frees the query sets. */
  async read(): Promise<GpuTime> {
    if (this.why) return { unavailable: this.why };
    const bytes = 16 * this.pairs;
    const resolved = this.device.createBuffer({ size: Math.max(16, bytes), usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: Math.max(16, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.device.createCommandEncoder();
      this.sets.forEach((set, x) => {
        const n = Math.min(PAIRS_PER_SET, this.pairs - x * PAIRS_PER_SET);
        encoder.resolveQuerySet(set, 0, 2 * n, resolved, x * PAIRS_PER_SET * 16);
      });
      encoder.copyBufferToBuffer(resolved, 0, staging, 0, Math.max(16, bytes));
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(staging.getMappedRange().slice(0));
      staging.unmap();
      let ns = 0n;
      for (let p = 0; p < this.pairs; p++) if (t[2 * p + 1]! > t[2 * p]!) ns += t[2 * p + 1]! - t[2 * p]!;
      return { ms: Number(ns) / 1e6 };
    } finally {
      resolved.destroy();
      staging.destroy();
      this.dispose();
    }
  }

  dispose(): void {
    for (const s of this.sets) s.destroy();
    this.sets = [];
  }
}
