/**
 * tfjs-backend-wasm 4.22 multiplies fast only when neither operand is transposed: with transposeA or transposeB it
 * leaves XNNPACK's path and runs 10-20× slower (measured here on [4736, 384] × [96, 384]ᵀ: 202 ms vs 18 ms with an
 * explicit Transpose first). Every Linear layer's backward pass uses those flags (dX = dY·Wᵀ, dW = Xᵀ·dY), so training
 * spends most of its time there. This re-registers the wasm BatchMatMul kernel so transposed operands are first
 * materialised by the wasm Transpose kernel and the product runs untransposed. Results are the same products (float
 * summation order may differ in the last bits).
 */
import * as tf from '@tensorflow/tfjs';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: string;
}
type KernelArgs = { inputs: Record<string, TensorInfoLike>; backend: unknown; attrs?: Record<string, unknown> };
type KernelFn = (args: KernelArgs) => TensorInfoLike;

let installed = false;

/** Installs the faster kernel once per process; a no-op unless the wasm backend is registered. */
export function useUntransposedWasmMatMul(): boolean {
  if (installed) return true;
  const matmul = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!matmul || !transpose) return false;
  const multiply = matmul.kernelFunc as unknown as KernelFn;
  const permute = transpose.kernelFunc as unknown as KernelFn;
  const swapLast = (x: TensorInfoLike, backend: unknown): TensorInfoLike => {
    const rank = x.shape.length;
    const perm = [...Array(rank).keys()];
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return permute({ inputs: { x }, backend, attrs: { perm } });
  };
  const kernelFunc: KernelFn = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as { a: TensorInfoLike; b: TensorInfoLike };
    const transposeA = attrs?.transposeA === true;
    const transposeB = attrs?.transposeB === true;
    if (!transposeA && !transposeB) return multiply({ inputs, backend, attrs });
    const temporaries: TensorInfoLike[] = [];
    const aIn = transposeA ? swapLast(a, backend) : a;
    const bIn = transposeB ? swapLast(b, backend) : b;
    if (transposeA) temporaries.push(aIn);
    if (transposeB) temporaries.push(bIn);
    try {
      return multiply({
        inputs: { ...inputs, a: aIn, b: bIn },
        backend,
        attrs: { ...attrs, transposeA: false, transposeB: false },
      });
    } finally {
      const owner = backend as { disposeData(id: object): void };
      for (const t of temporaries) owner.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...matmul, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  installed = true;
  return true;
}
