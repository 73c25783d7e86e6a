/**
 * What the native TensorFlow.js backend is built from: libtensorflow taken out of PyPI's TensorFlow wheels (the only
 * place our machines can fetch it from; see docs/native-tf.md), pinned by file name and sha256 so that every machine
 * builds the same bytes. pip checks the hashes (`--require-hashes`).
 */

/** TensorFlow release whose C API the tfjs-node binding is built against. 2.9.x wheels keep the C API inside a
 * libpython-dependent module, so they cannot serve; 2.21 ships it in libtensorflow_cc.so.2. */
export const TF_VERSION = '2.21.0';

export interface WheelPin {
  /** pip requirement, `name==version`. */
  requirement: string;
  /** The exact file pip must fetch (its platform tags decide which of the release's wheels it is). */
  file: string;
  sha256: string;
}

/** The CPU build (default): 274 MB download. */
export const CPU_WHEEL: WheelPin = {
  requirement: `tensorflow-cpu==${TF_VERSION}`,
  file: `tensorflow_cpu-${TF_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl`,
  sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
};

/** The CUDA build (opt-in): carries GPU code for sm_60 to sm_120, Hopper included. 572 MB download. */
export const GPU_WHEEL: WheelPin = {
  requirement: `tensorflow==${TF_VERSION}`,
  file: `tensorflow-${TF_VERSION}-cp311-cp311-manylinux_2_27_x86_64.whl`,
  sha256: '9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124',
};

/**
 * NVIDIA's CUDA 12 libraries, the versions `tensorflow[and-cuda]==2.21.0` resolves to (2.8 GB download, 4.4 GB
 * unpacked without headers). libtensorflow_framework.so.2 and libtensorflow_cc.so.2 look for them at
 * `$ORIGIN/../nvidia/<name>/lib` (their RUNPATH), which is why they are unpacked beside `deps/lib`.
 */
export const CUDA_WHEELS: WheelPin[] = [
  [
    'nvidia-cublas-cu12==12.9.3.13',
    'nvidia_cublas_cu12-12.9.3.13-py3-none-manylinux_2_27_x86_64.whl',
    'd7d51055f161b317c7105ddaae90e71eda059026074ffef93cf7cde2886bfe72',
  ],
  [
    'nvidia-cuda-cupti-cu12==12.8.90',
    'nvidia_cuda_cupti_cu12-12.8.90-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    'ea0cb07ebda26bb9b29ba82cda34849e73c166c18162d3913575b0c9db9a6182',
  ],
  [
    'nvidia-cuda-nvcc-cu12==12.9.86',
    'nvidia_cuda_nvcc_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl',
    '5d6a0d32fdc7ea39917c20065614ae93add6f577d840233237ff08e9a38f58f0',
  ],
  [
    'nvidia-cuda-nvrtc-cu12==12.9.86',
    'nvidia_cuda_nvrtc_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl',
    '210cf05005a447e29214e9ce50851e83fc5f4358df8b453155d5e1918094dcb4',
  ],
  [
    'nvidia-cuda-runtime-cu12==12.9.79',
    'nvidia_cuda_runtime_cu12-12.9.79-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    '25bba2dfb01d48a9b59ca474a1ac43c6ebf7011f1b0b8cc44f54eb6ac48a96c3',
  ],
  [
    'nvidia-cudnn-cu12==9.28.0.42',
    'nvidia_cudnn_cu12-9.28.0.42-py3-none-manylinux_2_27_x86_64.whl',
    '9ff58b7f36dacd0a93e89f8f2957b52466889217963701daa15e577317cfa375',
  ],
  [
    'nvidia-cufft-cu12==11.4.1.4',
    'nvidia_cufft_cu12-11.4.1.4-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    'c67884f2a7d276b4b80eb56a79322a95df592ae5e765cf1243693365ccab4e28',
  ],
  [
    'nvidia-curand-cu12==10.3.10.19',
    'nvidia_curand_cu12-10.3.10.19-py3-none-manylinux_2_27_x86_64.whl',
    '49b274db4780d421bd2ccd362e1415c13887c53c214f0d4b761752b8f9f6aa1e',
  ],
  [
    'nvidia-cusolver-cu12==11.7.5.82',
    'nvidia_cusolver_cu12-11.7.5.82-py3-none-manylinux_2_27_x86_64.whl',
    '15da72d1340d29b5b3cf3fd100e3cd53421dde36002eda6ed93811af63c40d88',
  ],
  [
    'nvidia-cusparse-cu12==12.5.10.65',
    'nvidia_cusparse_cu12-12.5.10.65-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    '73060ce019ac064a057267c585bf1fd5a353734151f87472ff02b2c5c9984e78',
  ],
  [
    'nvidia-nccl-cu12==2.32.3',
    'nvidia_nccl_cu12-2.32.3-py3-none-manylinux_2_27_x86_64.whl',
    'bb94b2348e4861d5e8aa00b36c3d12d9bdf9c6369b82cbb723de0b582280a21c',
  ],
  [
    'nvidia-nvjitlink-cu12==12.9.86',
    'nvidia_nvjitlink_cu12-12.9.86-py3-none-manylinux2010_x86_64.manylinux_2_12_x86_64.whl',
    'e3f1171dbdc83c5932a45f0f4c99180a70de9bd2718c1ab77d14104f6d7147f9',
  ],
].map(([requirement, file, sha256]) => ({ requirement: requirement!, file: file!, sha256: sha256! }));

/** Platform tags pip is told to accept, so the pinned files are chosen whatever Python runs pip. */
export const WHEEL_PLATFORMS = [
  'manylinux_2_27_x86_64',
  'manylinux_2_17_x86_64',
  'manylinux2014_x86_64',
  'manylinux_2_12_x86_64',
  'manylinux2010_x86_64',
];

/** Headers the binding compiles against (c_api.h, eager/c_api.h and what they include), from the wheel. */
export const HEADER_PREFIXES = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/'];
