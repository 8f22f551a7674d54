// Element-wise kernels of the layer: one block per row where a row-wide reduction is needed
// (RMSNorm), grid-stride loops elsewhere. Arithmetic in FP32, storage in BF16.
#include <cmath>

#include "kernels.hpp"

namespace herd::calibrate::cuda {

namespace {

constexpr int kThreads = 256;

__device__ float to_f(bf16 v) { return __bfloat162float(v); }
__device__ bf16 to_bf(float v) { return __float2bfloat16(v); }

// Sum over the block, returned to every thread (kThreads threads).
__device__ float block_sum(float v) {
  __shared__ float partial[kThreads / 32];
  for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // partial may still be read from a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0;
  for (int w = 0; w < kThreads / 32; ++w) total += partial[w];
  return total;
}

__global__ void rmsnorm_forward_kernel(std::int64_t cols, float eps, const bf16* x, const bf16* g, bf16* y, float* rstd) {
  const std::int64_t row = blockIdx.x;
  const bf16* xr = x + row * cols;
  float sum = 0;
  for (std::int64_t c = threadIdx.x; c < cols; c += kThreads) sum += to_f(xr[c]) * to_f(xr[c]);
  const float inv = rsqrtf(block_sum(sum) / float(cols) + eps);
  if (threadIdx.x == 0) rstd[row] = inv;
  for (std::int64_t c = threadIdx.x; c < cols; c += kThreads) y[row * cols + c] = to_bf(to_f(xr[c]) * inv * to_f(g[c]));
}

// dx = rstd (dy g - x rstd mean(dy g x rstd))
__global__ void rmsnorm_dx_kernel(std::int64_t cols, const bf16* x, const bf16* g, const float* rstd, const bf16* dy, bf16* dx) {
  const std::int64_t row = blockIdx.x;
  const float r = rstd[row];
  float dot = 0;
  for (std::int64_t c = threadIdx.x; c < cols; c += kThreads) dot += to_f(dy[row * cols + c]) * to_f(g[c]) * to_f(x[row * cols + c]) * r;
  const float mean = block_sum(dot) / float(cols);
  for (std::int64_t c = threadIdx.x; c < cols; c += kThreads) {
    const std::int64_t i = row * cols + c;
    dx[i] = to_bf(r * (to_f(dy[i]) * to_f(g[c]) - to_f(x[i]) * r * mean));
  }
}

// dg[c] += sum over a chunk of rows of dy x rstd: one thread per column, coalesced along rows.
constexpr int kRowsPerChunk = 64;
__global__ void rmsnorm_dg_kernel(std::int64_t rows, std::int64_t cols, const bf16* x, const float* rstd, const bf16* dy, float* dg) {
  const std::int64_t c = std::int64_t(blockIdx.x) * kThreads + threadIdx.x;
  if (c >= cols) return;
  const std::int64_t first = std::int64_t(blockIdx.y) * kRowsPerChunk;
  const std::int64_t last = min(rows, first + kRowsPerChunk);
  float acc = 0;
  for (std::int64_t t = first; t < last; ++t) acc += to_f(dy[t * cols + c]) * to_f(x[t * cols + c]) * rstd[t];
  atomicAdd(dg + c, acc);
}

__global__ void rope_kernel(std::int64_t tokens, std::int64_t seq, int heads, std::int64_t head_dim, std::int64_t width,
                            float log2_theta, float sign, bf16* qkv) {
  const std::int64_t half = head_dim / 2;
  const std::int64_t total = tokens * heads * half;
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t pair = i % half, head = i / half % heads, t = i / half / heads;
    const float inv_freq = exp2f(-2.0f * float(pair) / float(head_dim) * log2_theta);
    float sn, cs;
    sincosf(float(t % seq) * inv_freq, &sn, &cs);
    sn *= sign;
    bf16* v = qkv + t * width + head * head_dim;
    const float x1 = to_f(v[pair]), x2 = to_f(v[pair + half]);
    v[pair] = to_bf(x1 * cs - x2 * sn);
    v[pair + half] = to_bf(x1 * sn + x2 * cs);
  }
}

__global__ void swiglu_forward_kernel(std::int64_t rows, std::int64_t ffn, const bf16* gu, bf16* out) {
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * ffn; i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t t = i / ffn, j = i % ffn;
    const float z = to_f(gu[t * 2 * ffn + j]), up = to_f(gu[t * 2 * ffn + ffn + j]);
    out[i] = to_bf(z / (1.0f + expf(-z)) * up);
  }
}

__global__ void swiglu_backward_kernel(std::int64_t rows, std::int64_t ffn, const bf16* gu, const bf16* ds, bf16* dgu) {
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < rows * ffn; i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t t = i / ffn, j = i % ffn;
    const float z = to_f(gu[t * 2 * ffn + j]), up = to_f(gu[t * 2 * ffn + ffn + j]), g = to_f(ds[i]);
    const float sigma = 1.0f / (1.0f + expf(-z));
    dgu[t * 2 * ffn + j] = to_bf(g * up * sigma * (1.0f + z * (1.0f - sigma)));
    dgu[t * 2 * ffn + ffn + j] = to_bf(g * z * sigma);
  }
}

// Two BF16 values at a time when the pointers allow it.
__global__ void add_kernel(std::int64_t n, const bf16* a, const bf16* b, bf16* c) {
  const std::int64_t pairs = n / 2;
  const auto* a2 = reinterpret_cast<const __nv_bfloat162*>(a);
  const auto* b2 = reinterpret_cast<const __nv_bfloat162*>(b);
  auto* c2 = reinterpret_cast<__nv_bfloat162*>(c);
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < pairs; i += std::int64_t(gridDim.x) * blockDim.x)
    c2[i] = __hadd2(a2[i], b2[i]);
  if (n % 2 == 1 && blockIdx.x == 0 && threadIdx.x == 0) c[n - 1] = __hadd(a[n - 1], b[n - 1]);
}

// Grid-stride loops: enough blocks to fill any current GPU (132 SMs x 2048 threads = 1056 blocks
// of 256), without asking the device on every launch.
// Uniform values in [-scale, scale) from a hash of (seed, index): random data, as GEMM speed
// (through power and clocks) depends on it, without a host round trip.
__global__ void fill_random_kernel(std::int64_t n, std::uint64_t seed, float scale, bf16* out) {
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += std::int64_t(gridDim.x) * blockDim.x) {
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * std::uint64_t(i + 1);  // splitmix64
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out[i] = to_bf(scale * (float(z >> 40) / float(1 << 23) - 1.0f));
  }
}

int grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(blocks, 4096)));
}

}  // namespace

void rmsnorm_forward(std::int64_t rows, std::int64_t cols, float eps, const bf16* x, const bf16* g, bf16* y, float* rstd,
                     cudaStream_t s) {
  rmsnorm_forward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(cols, eps, x, g, y, rstd);
  check(cudaGetLastError(), "rmsnorm_forward");
}

void rmsnorm_backward(std::int64_t rows, std::int64_t cols, const bf16* x, const bf16* g, const float* rstd, const bf16* dy,
                      bf16* dx, float* dg, cudaStream_t s) {
  rmsnorm_dx_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(cols, x, g, rstd, dy, dx);
  const dim3 grid(static_cast<unsigned>((cols + kThreads - 1) / kThreads), static_cast<unsigned>((rows + kRowsPerChunk - 1) / kRowsPerChunk));
  rmsnorm_dg_kernel<<<grid, kThreads, 0, s>>>(rows, cols, x, rstd, dy, dg);
  check(cudaGetLastError(), "rmsnorm_backward");
}

void rope(const LayerDims& d, bf16* qkv, bool inverse, cudaStream_t s) {
  const int heads = d.heads_q + d.heads_kv;  // q heads then k heads; v is not rotated
  rope_kernel<<<grid_for(d.tokens() * heads * d.head_dim / 2), kThreads, 0, s>>>(
      d.tokens(), d.seq, heads, d.head_dim, d.qkv_width(), static_cast<float>(std::log2(d.rope_theta)), inverse ? -1.0f : 1.0f, qkv);
  check(cudaGetLastError(), "rope");
}

void swiglu_forward(std::int64_t rows, std::int64_t ffn, const bf16* gu, bf16* out, cudaStream_t s) {
  swiglu_forward_kernel<<<grid_for(rows * ffn), kThreads, 0, s>>>(rows, ffn, gu, out);
  check(cudaGetLastError(), "swiglu_forward");
}

void swiglu_backward(std::int64_t rows, std::int64_t ffn, const bf16* gu, const bf16* ds, bf16* dgu, cudaStream_t s) {
  swiglu_backward_kernel<<<grid_for(rows * ffn), kThreads, 0, s>>>(rows, ffn, gu, ds, dgu);
  check(cudaGetLastError(), "swiglu_backward");
}

void add(std::int64_t n, const bf16* a, const bf16* b, bf16* c, cudaStream_t s) {
  add_kernel<<<grid_for(n / 2 + 1), kThreads, 0, s>>>(n, a, b, c);
  check(cudaGetLastError(), "add");
}

void fill_random(std::int64_t n, std::uint64_t seed, float scale, bf16* out, cudaStream_t s) {
  fill_random_kernel<<<grid_for(n), kThreads, 0, s>>>(n, seed, scale, out);
  check(cudaGetLastError(), "fill_random");
}

}  // namespace herd::calibrate::cuda
