// Causal GQA attention in the FlashAttention-2 style (Dao, arXiv:2307.08691): tiles of 64 queries
// x 64 keys, an online softmax, products on tensor cores through WMMA (BF16 in, FP32 accumulate).
// Simpler than FlashAttention's kernels (one CTA of 4 warps per tile, accumulators staged in
// shared memory), so it is slower: what it measures is this kernel, which the profile records.
//
// Forward, per (query block, query head, sequence): for each key block up to the diagonal,
// S = Q K^T, m' = max(m, rowmax(S)), P = exp(S - m'), l = l e^(m - m') + rowsum(P),
// O = O e^(m - m') + P V; finally O / l and lse = m + log l.
// Backward, per (key block, query head, sequence): for each query block from the diagonal on,
// P = exp(S - lse), dV += P^T dO, dP = dO V^T, dS = P (dP - D) with D = rowsum(dO O),
// dK += dS^T Q, dQ += dS K (atomics); dK, dV per query head are summed over each GQA group after.
#include <mma.h>

#include <cmath>

#include "kernels.hpp"

namespace herd::calibrate::cuda {

namespace {

using namespace nvcuda;
using std::int64_t;

constexpr int kBlock = 64;    // queries and keys per tile
constexpr int kThreads = 128; // 4 warps; each owns 16 rows (queries, or keys in the backward)
constexpr float kLog2e = 1.4426950408889634f;

template <int D>
struct Smem {
  static constexpr int ld_h = D + 8;      // BF16 row stride of D-wide tiles (keeps rows 32-byte aligned)
  static constexpr int ld_s = kBlock + 4; // FP32 row stride of 64-wide score tiles
  static constexpr int ld_p = kBlock + 8; // BF16 row stride of 64-wide probability tiles
  static constexpr int ld_o = D + 4;      // FP32 row stride of D-wide accumulators
  static constexpr std::size_t tile_h = kBlock * ld_h * sizeof(bf16);
  static constexpr std::size_t tile_s = kBlock * ld_s * sizeof(float);
  static constexpr std::size_t tile_p = kBlock * ld_p * sizeof(bf16);
  static constexpr std::size_t tile_o = kBlock * ld_o * sizeof(float);
  static constexpr std::size_t rows = 2 * kBlock * sizeof(float);
  static constexpr std::size_t forward = 3 * tile_h + tile_s + tile_p + tile_o + rows;
  static constexpr std::size_t backward = 4 * tile_h + 2 * tile_s + 2 * tile_p + tile_o + rows;
};

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::row_major>;
using FragAt = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::row_major>;
using FragBt = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

// Rows [row0, row0 + 64) of a D-wide slice (row stride `stride` elements) into a shared tile;
// rows at or past `limit` are zero. 16-byte loads.
template <int D>
__device__ void load_tile(bf16* dst, const bf16* src, int64_t stride, int64_t row0, int64_t limit) {
  constexpr int chunks = D / 8;
  for (int i = threadIdx.x; i < kBlock * chunks; i += kThreads) {
    const int r = i / chunks, c = (i % chunks) * 8;
    uint4 v = make_uint4(0, 0, 0, 0);
    if (row0 + r < limit) v = *reinterpret_cast<const uint4*>(src + (row0 + r) * stride + c);
    *reinterpret_cast<uint4*>(dst + r * Smem<D>::ld_h + c) = v;
  }
}

// out (16 x 64, FP32, row stride ld_s) = A rows (16 x D) times B^T where B is 64 x D: A B^T.
template <int D>
__device__ void rows_times_transposed(const bf16* a, const bf16* b, float* out) {
  for (int j = 0; j < kBlock / 16; ++j) {
    FragC acc;
    wmma::fill_fragment(acc, 0.0f);
    for (int kk = 0; kk < D / 16; ++kk) {
      FragA fa;
      FragBt fb;
      wmma::load_matrix_sync(fa, a + kk * 16, Smem<D>::ld_h);
      wmma::load_matrix_sync(fb, b + j * 16 * Smem<D>::ld_h + kk * 16, Smem<D>::ld_h);
      wmma::mma_sync(acc, fa, fb, acc);
    }
    wmma::store_matrix_sync(out + j * 16, acc, Smem<D>::ld_s, wmma::mem_row_major);
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads)
    flash_forward(const bf16* qkv, bf16* o, float* lse, int64_t seq, int heads_q, int heads_kv, float scale_log2) {
  using S = Smem<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* q_s = reinterpret_cast<bf16*>(smem);
  bf16* k_s = reinterpret_cast<bf16*>(smem + S::tile_h);
  bf16* v_s = reinterpret_cast<bf16*>(smem + 2 * S::tile_h);
  float* s_s = reinterpret_cast<float*>(smem + 3 * S::tile_h);
  bf16* p_s = reinterpret_cast<bf16*>(smem + 3 * S::tile_h + S::tile_s);
  float* o_s = reinterpret_cast<float*>(smem + 3 * S::tile_h + S::tile_s + S::tile_p);
  float* row_m = reinterpret_cast<float*>(smem + 3 * S::tile_h + S::tile_s + S::tile_p + S::tile_o);
  float* row_l = row_m + kBlock;

  const int qb = static_cast<int>(gridDim.x) - 1 - static_cast<int>(blockIdx.x);  // longest rows first
  const int h = blockIdx.y, b = blockIdx.z, g = h / (heads_q / heads_kv);
  const int64_t width = int64_t(heads_q + 2 * heads_kv) * D;
  const bf16* base = qkv + int64_t(b) * seq * width;
  const int64_t q0 = int64_t(qb) * kBlock;
  load_tile<D>(q_s, base + int64_t(h) * D, width, q0, seq);
  for (int i = threadIdx.x; i < kBlock * S::ld_o; i += kThreads) o_s[i] = 0;
  if (threadIdx.x < kBlock) row_m[threadIdx.x] = -INFINITY, row_l[threadIdx.x] = 0;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r = warp * 16 + lane / 2, half = lane % 2;  // each lane updates half of one row
  const int64_t qi = q0 + r;
  const int64_t key_blocks = min((seq + kBlock - 1) / kBlock, int64_t(qb) + 1);
  for (int64_t kb = 0; kb < key_blocks; ++kb) {
    const int64_t k0 = kb * kBlock;
    __syncthreads();  // the previous block is done with k_s and v_s
    load_tile<D>(k_s, base + int64_t(heads_q + g) * D, width, k0, seq);
    load_tile<D>(v_s, base + int64_t(heads_q + heads_kv + g) * D, width, k0, seq);
    __syncthreads();
    rows_times_transposed<D>(q_s + warp * 16 * S::ld_h, k_s, s_s + warp * 16 * S::ld_s);
    __syncwarp();
    // Online softmax over this block's keys, in base 2 with the 1/sqrt(d) scale folded in.
    float* srow = s_s + r * S::ld_s + half * 32;
    float block_max = -INFINITY;
    for (int c = 0; c < 32; ++c) {
      const int64_t key = k0 + half * 32 + c;
      const float v = (key > qi || key >= seq) ? -INFINITY : srow[c] * scale_log2;
      srow[c] = v;
      block_max = fmaxf(block_max, v);
    }
    block_max = fmaxf(block_max, __shfl_xor_sync(0xffffffffu, block_max, 1));
    const float m_old = row_m[r];
    const float m_new = fmaxf(m_old, block_max);
    const float m_use = m_new == -INFINITY ? 0.0f : m_new;  // a row with nothing visible yet
    float sum = 0;
    bf16* prow = p_s + r * S::ld_p + half * 32;
    for (int c = 0; c < 32; ++c) {
      const float p = exp2f(srow[c] - m_use);
      prow[c] = __float2bfloat16(p);
      sum += p;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    const float alpha = exp2f(m_old - m_use);
    float* orow = o_s + r * S::ld_o + half * (D / 2);
    for (int c = 0; c < D / 2; ++c) orow[c] *= alpha;
    __syncwarp();
    if (half == 0) row_l[r] = alpha * row_l[r] + sum, row_m[r] = m_new;
    __syncwarp();
    for (int n = 0; n < D / 16; ++n) {  // O += P V, this warp's 16 rows
      FragC acc;
      wmma::load_matrix_sync(acc, o_s + warp * 16 * S::ld_o + n * 16, S::ld_o, wmma::mem_row_major);
      for (int kk = 0; kk < kBlock / 16; ++kk) {
        FragA fp;
        FragB fv;
        wmma::load_matrix_sync(fp, p_s + warp * 16 * S::ld_p + kk * 16, S::ld_p);
        wmma::load_matrix_sync(fv, v_s + kk * 16 * S::ld_h + n * 16, S::ld_h);
        wmma::mma_sync(acc, fp, fv, acc);
      }
      wmma::store_matrix_sync(o_s + warp * 16 * S::ld_o + n * 16, acc, S::ld_o, wmma::mem_row_major);
    }
  }
  __syncwarp();
  if (qi < seq) {
    const float l = row_l[r];
    bf16* out = o + (int64_t(b) * seq + qi) * int64_t(heads_q) * D + int64_t(h) * D + half * (D / 2);
    const float* orow = o_s + r * S::ld_o + half * (D / 2);
    for (int c = 0; c < D / 2; ++c) out[c] = __float2bfloat16(orow[c] / l);
    if (half == 0) lse[(int64_t(b) * heads_q + h) * seq + qi] = row_m[r] / kLog2e + logf(l);
  }
}

// D_i = dO_i . O_i, one warp per (token, query head).
__global__ void attention_delta(const bf16* o, const bf16* d_o, float* delta, int64_t batch, int64_t seq, int heads_q,
                                int64_t head_dim) {
  const int64_t warps = batch * seq * heads_q;
  const int lane = threadIdx.x % 32;
  for (int64_t w = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32; w < warps; w += int64_t(gridDim.x) * blockDim.x / 32) {
    const int64_t t = w / heads_q;
    const int h = static_cast<int>(w % heads_q);
    const int64_t at = t * heads_q * head_dim + h * head_dim;
    float s = 0;
    for (int64_t c = lane; c < head_dim; c += 32) s += __bfloat162float(o[at + c]) * __bfloat162float(d_o[at + c]);
    for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0) delta[(t / seq * heads_q + h) * seq + t % seq] = s;
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads)
    flash_backward(const bf16* qkv, const bf16* d_o, const float* lse, const float* delta, float* dq, float* dk_heads,
                   float* dv_heads, int64_t seq, int heads_q, int heads_kv, float scale, float scale_log2) {
  using S = Smem<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  bf16* k_s = reinterpret_cast<bf16*>(smem);
  bf16* v_s = reinterpret_cast<bf16*>(smem + S::tile_h);
  bf16* q_s = reinterpret_cast<bf16*>(smem + 2 * S::tile_h);
  bf16* do_s = reinterpret_cast<bf16*>(smem + 3 * S::tile_h);
  float* s_s = reinterpret_cast<float*>(smem + 4 * S::tile_h);
  float* dp_s = reinterpret_cast<float*>(smem + 4 * S::tile_h + S::tile_s);
  bf16* p_s = reinterpret_cast<bf16*>(smem + 4 * S::tile_h + 2 * S::tile_s);
  bf16* ds_s = reinterpret_cast<bf16*>(smem + 4 * S::tile_h + 2 * S::tile_s + S::tile_p);
  float* scratch = reinterpret_cast<float*>(smem + 4 * S::tile_h + 2 * S::tile_s + 2 * S::tile_p);
  float* lse_s = reinterpret_cast<float*>(smem + 4 * S::tile_h + 2 * S::tile_s + 2 * S::tile_p + S::tile_o);
  float* delta_s = lse_s + kBlock;

  const int kb = blockIdx.x;  // the first key blocks see the most queries: they start first
  const int h = blockIdx.y, b = blockIdx.z, g = h / (heads_q / heads_kv);
  const int64_t width = int64_t(heads_q + 2 * heads_kv) * D, o_width = int64_t(heads_q) * D;
  const bf16* base = qkv + int64_t(b) * seq * width;
  const int64_t k0 = int64_t(kb) * kBlock;
  load_tile<D>(k_s, base + int64_t(heads_q + g) * D, width, k0, seq);
  load_tile<D>(v_s, base + int64_t(heads_q + heads_kv + g) * D, width, k0, seq);

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int r = warp * 16 + lane / 2, half = lane % 2;
  // Fragment arrays stay in registers only while every loop over them is unrolled.
  FragC dk[D / 16], dv[D / 16];
#pragma unroll
  for (int n = 0; n < D / 16; ++n) wmma::fill_fragment(dk[n], 0.0f), wmma::fill_fragment(dv[n], 0.0f);
  const int64_t query_blocks = (seq + kBlock - 1) / kBlock;
  for (int64_t qb = kb; qb < query_blocks; ++qb) {
    const int64_t q0 = qb * kBlock;
    __syncthreads();  // the previous query block is done with q_s, do_s, p_s, ds_s
    load_tile<D>(q_s, base + int64_t(h) * D, width, q0, seq);
    load_tile<D>(do_s, d_o + int64_t(b) * seq * o_width + int64_t(h) * D, o_width, q0, seq);
    if (threadIdx.x < kBlock) {
      const int64_t qrow = q0 + threadIdx.x;
      const int64_t at = (int64_t(b) * heads_q + h) * seq + qrow;
      lse_s[threadIdx.x] = qrow < seq ? lse[at] * kLog2e : INFINITY;
      delta_s[threadIdx.x] = qrow < seq ? delta[at] : 0.0f;
    }
    __syncthreads();
    rows_times_transposed<D>(q_s + warp * 16 * S::ld_h, k_s, s_s + warp * 16 * S::ld_s);    // S
    rows_times_transposed<D>(do_s + warp * 16 * S::ld_h, v_s, dp_s + warp * 16 * S::ld_s);  // dP = dO V^T
    __syncwarp();
    const int64_t qi = q0 + r;
    for (int c = half * 32; c < half * 32 + 32; ++c) {
      const int64_t key = k0 + c;
      const bool visible = key <= qi && key < seq && qi < seq;
      const float p = visible ? exp2f(s_s[r * S::ld_s + c] * scale_log2 - lse_s[r]) : 0.0f;
      p_s[r * S::ld_p + c] = __float2bfloat16(p);
      ds_s[r * S::ld_p + c] = __float2bfloat16(p * (dp_s[r * S::ld_s + c] - delta_s[r]));
    }
    __syncthreads();  // every query row's P and dS are in place
#pragma unroll
    for (int n = 0; n < D / 16; ++n)
#pragma unroll
      for (int kk = 0; kk < kBlock / 16; ++kk) {  // this warp's 16 keys: dV += P^T dO, dK += dS^T Q
        FragAt pt, dst;
        FragB fdo, fq;
        wmma::load_matrix_sync(pt, p_s + kk * 16 * S::ld_p + warp * 16, S::ld_p);
        wmma::load_matrix_sync(fdo, do_s + kk * 16 * S::ld_h + n * 16, S::ld_h);
        wmma::mma_sync(dv[n], pt, fdo, dv[n]);
        wmma::load_matrix_sync(dst, ds_s + kk * 16 * S::ld_p + warp * 16, S::ld_p);
        wmma::load_matrix_sync(fq, q_s + kk * 16 * S::ld_h + n * 16, S::ld_h);
        wmma::mma_sync(dk[n], dst, fq, dk[n]);
      }
    for (int n = 0; n < D / 16; ++n) {  // this warp's 16 queries: dQ = dS K
      FragC acc;
      wmma::fill_fragment(acc, 0.0f);
      for (int kk = 0; kk < kBlock / 16; ++kk) {
        FragA fds;
        FragB fk;
        wmma::load_matrix_sync(fds, ds_s + warp * 16 * S::ld_p + kk * 16, S::ld_p);
        wmma::load_matrix_sync(fk, k_s + kk * 16 * S::ld_h + n * 16, S::ld_h);
        wmma::mma_sync(acc, fds, fk, acc);
      }
      wmma::store_matrix_sync(scratch + warp * 16 * S::ld_o + n * 16, acc, S::ld_o, wmma::mem_row_major);
    }
    __syncwarp();
    if (qi < seq) {
      float* out = dq + (int64_t(b) * seq + qi) * o_width + int64_t(h) * D;
      for (int c = half * (D / 2); c < (half + 1) * (D / 2); ++c) atomicAdd(out + c, scale * scratch[r * S::ld_o + c]);
    }
  }
  // This query head's share of dK (scaled) and dV for the block's keys.
  const int64_t kj = k0 + r;
  const int64_t at = ((int64_t(b) * seq + kj) * heads_q + h) * D;
  __syncwarp();
#pragma unroll
  for (int n = 0; n < D / 16; ++n) {
#pragma unroll
    for (int e = 0; e < dk[n].num_elements; ++e) dk[n].x[e] *= scale;
    wmma::store_matrix_sync(scratch + warp * 16 * S::ld_o + n * 16, dk[n], S::ld_o, wmma::mem_row_major);
  }
  __syncwarp();
  if (kj < seq)
    for (int c = half * (D / 2); c < (half + 1) * (D / 2); ++c) dk_heads[at + c] = scratch[r * S::ld_o + c];
  __syncwarp();
#pragma unroll
  for (int n = 0; n < D / 16; ++n) wmma::store_matrix_sync(scratch + warp * 16 * S::ld_o + n * 16, dv[n], S::ld_o, wmma::mem_row_major);
  __syncwarp();
  if (kj < seq)
    for (int c = half * (D / 2); c < (half + 1) * (D / 2); ++c) dv_heads[at + c] = scratch[r * S::ld_o + c];
}

// dqkv's q part from the FP32 dQ; its k and v parts summed over each group's query heads.
__global__ void attention_gather(const float* dq, const float* dk_heads, const float* dv_heads, bf16* dqkv, int64_t tokens,
                                 int heads_q, int heads_kv, int64_t head_dim) {
  const int64_t width = int64_t(heads_q + 2 * heads_kv) * head_dim, q_width = int64_t(heads_q) * head_dim;
  const int64_t kv_width = int64_t(heads_kv) * head_dim, group = heads_q / heads_kv;
  const int64_t per_token = q_width + kv_width;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < tokens * per_token; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / per_token, c = i % per_token;
    if (c < q_width) {
      dqkv[t * width + c] = __float2bfloat16(dq[t * q_width + c]);
      continue;
    }
    const int64_t kv = c - q_width, gk = kv / head_dim, e = kv % head_dim;
    float sk = 0, sv = 0;
    for (int64_t h = gk * group; h < (gk + 1) * group; ++h) {
      sk += dk_heads[(t * heads_q + h) * head_dim + e];
      sv += dv_heads[(t * heads_q + h) * head_dim + e];
    }
    dqkv[t * width + q_width + kv] = __float2bfloat16(sk);
    dqkv[t * width + q_width + kv_width + kv] = __float2bfloat16(sv);
  }
}

int blocks_for(int64_t n, int threads) { return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((n + threads - 1) / threads, 4096))); }

template <int D>
void launch_forward(const LayerDims& d, const bf16* qkv, bf16* o, float* lse, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>((d.seq + kBlock - 1) / kBlock), static_cast<unsigned>(d.heads_q), static_cast<unsigned>(d.batch));
  const float scale_log2 = kLog2e / std::sqrt(float(D));
  flash_forward<D><<<grid, kThreads, Smem<D>::forward, s>>>(qkv, o, lse, d.seq, d.heads_q, d.heads_kv, scale_log2);
}

template <int D>
void launch_backward(const LayerDims& d, const bf16* qkv, const bf16* d_o, const float* lse, AttentionWorkspace& w, cudaStream_t s) {
  const dim3 grid(static_cast<unsigned>((d.seq + kBlock - 1) / kBlock), static_cast<unsigned>(d.heads_q), static_cast<unsigned>(d.batch));
  const float scale = 1.0f / std::sqrt(float(D));
  flash_backward<D><<<grid, kThreads, Smem<D>::backward, s>>>(qkv, d_o, lse, w.delta.get(), w.dq.get(), w.dk_heads.get(),
                                                              w.dv_heads.get(), d.seq, d.heads_q, d.heads_kv, scale, scale * kLog2e);
}

}  // namespace

AttentionWorkspace::AttentionWorkspace(const LayerDims& d)
    : dq(static_cast<std::size_t>(d.tokens() * d.q_width())),
      dk_heads(static_cast<std::size_t>(d.tokens() * d.q_width())),
      dv_heads(static_cast<std::size_t>(d.tokens() * d.q_width())),
      delta(static_cast<std::size_t>(d.batch * d.heads_q * d.seq)) {}

bool attention_supports(std::int64_t head_dim) { return head_dim == 64 || head_dim == 128; }

void attention_configure() {
  check(cudaFuncSetAttribute(flash_forward<64>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Smem<64>::forward)), "attention smem");
  check(cudaFuncSetAttribute(flash_forward<128>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Smem<128>::forward)), "attention smem");
  check(cudaFuncSetAttribute(flash_backward<64>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Smem<64>::backward)), "attention smem");
  check(cudaFuncSetAttribute(flash_backward<128>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(Smem<128>::backward)), "attention smem");
}

void attention_forward(const LayerDims& d, const bf16* qkv, bf16* o, float* lse, cudaStream_t s) {
  if (d.head_dim == 128) launch_forward<128>(d, qkv, o, lse, s);
  else if (d.head_dim == 64) launch_forward<64>(d, qkv, o, lse, s);
  else throw std::runtime_error("attention kernels are built for head_dim 64 and 128, not " + std::to_string(d.head_dim));
  check(cudaGetLastError(), "attention_forward");
}

void attention_backward(const LayerDims& d, const bf16* qkv, const bf16* o, const float* lse, const bf16* d_o, bf16* dqkv,
                        AttentionWorkspace& w, cudaStream_t s) {
  if (!attention_supports(d.head_dim))
    throw std::runtime_error("attention kernels are built for head_dim 64 and 128, not " + std::to_string(d.head_dim));
  w.dq.zero(s);
  attention_delta<<<blocks_for(d.tokens() * d.heads_q * 32, 256), 256, 0, s>>>(o, d_o, w.delta.get(), d.batch, d.seq, d.heads_q,
                                                                             d.head_dim);
  if (d.head_dim == 128) launch_backward<128>(d, qkv, d_o, lse, w, s);
  else launch_backward<64>(d, qkv, d_o, lse, w, s);
  attention_gather<<<blocks_for(d.tokens() * (d.q_width() + d.kv_width()), 256), 256, 0, s>>>(
      w.dq.get(), w.dk_heads.get(), w.dv_heads.get(), dqkv, d.tokens(), d.heads_q, d.heads_kv, d.head_dim);
  check(cudaGetLastError(), "attention_backward");
}

}  // namespace herd::calibrate::cuda
