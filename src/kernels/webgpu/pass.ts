// What every WGSL kernel host does around a dispatch: let tfjs's pending uploads go first on the shared
// queue, then run one compute pass (timed when the timer has timestamp queries), turn a validation
// error into KernelUnsupported so the node falls back visibly, and wait for the GPU so the caller can
// size its next chunk of work by the time this one took.

/** The kernel cannot run on this adapter (a limit, a feature, a shader that does not compile): the caller falls back. */
export class KernelUnsupported extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelUnsupported';
  }
}

/** Submits tfjs-backend-webgpu's recorded work, so the kernel's passes run after it on the same queue. */
export function flushTfjs(backend: { ensureCommandEncoderReady(): void; endComputePassEncoder(): void; submitQueue(): void }): void {
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}

/** Runs one pass of `pipeline` over `workgroups` and waits for it; returns its wall milliseconds. */
export async function runPass(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  bindGroup: GPUBindGroup,
  workgroups: [number, number?],
  timestampWrites: GPUComputePassTimestampWrites | undefined,
  what: string,
): Promise<number> {
  const started = performance.now();
  device.pushErrorScope('validation');
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass({ timestampWrites });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1);
  pass.end();
  device.queue.submit([encoder.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new KernelUnsupported(`the ${what}'s dispatch was refused: ${error.message}`);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - started;
}
