#include "herd/model/workload.hpp"

#include <algorithm>
#include <array>

namespace herd::model {

std::string_view to_string(OpKind k) {
  switch (k) {
    case OpKind::gemm: return "gemm";
    case OpKind::attention: return "attention";
    case OpKind::elementwise: return "elementwise";
    case OpKind::embedding: return "embedding";
    case OpKind::loss: return "loss";
    case OpKind::optimizer: return "optimizer";
    case OpKind::collective: return "collective";
  }
  return "";
}
std::string_view to_string(Pass p) {
  switch (p) {
    case Pass::forward: return "forward";
    case Pass::backward: return "backward";
    case Pass::recompute: return "recompute";
    case Pass::optimizer: return "optimizer";
  }
  return "";
}
std::string_view to_string(Stream s) {
  switch (s) {
    case Stream::compute: return "compute";
    case Stream::tp_comm: return "tp_comm";
    case Stream::cp_comm: return "cp_comm";
    case Stream::pp_comm: return "pp_comm";
    case Stream::dp_comm: return "dp_comm";
  }
  return "";
}

std::int64_t local_tokens(const PlanSpec& p, std::int64_t seq_len) { return p.micro_batch * seq_len / p.cp; }
int heads_per_rank(const TransformerSpec& m, const PlanSpec& p) { return m.heads / p.tp; }
int kv_heads_per_rank(const TransformerSpec& m, const PlanSpec& p) { return std::max(1, m.kv_heads / p.tp); }
std::int64_t padded_vocab(const TransformerSpec& m, const PlanSpec& p) {
  const std::int64_t multiple = 128LL * p.tp;
  return (m.vocab + multiple - 1) / multiple * multiple;
}
double causal_pairs(std::int64_t s, int cp) {
  return static_cast<double>(s) * static_cast<double>(s + 1) / (2.0 * cp);
}

namespace {

constexpr double kAct = 2;  // bytes per BF16 activation element

// Appends ops in program order; backward GEMMs come as a data-gradient and a weight-gradient op.
class ProgramBuilder {
 public:
  ProgramBuilder(std::vector<Op>& ops, Pass pass) : ops_(ops), pass_(pass) {}

  void gemm(std::string_view name, std::int64_t m, std::int64_t n, std::int64_t k, std::int64_t batch = 1) {
    Op op = base(name, OpKind::gemm);
    op.gemm = {m, n, k, batch};
    op.flops = 2.0 * m * n * k * double(batch);
    op.model_flops = pass_ == Pass::recompute ? 0 : op.flops;
    op.bytes = kAct * (double(m) * k + double(k) * n + double(m) * n) * double(batch);
    ops_.push_back(op);
  }
  // Attention without a fused kernel (Megatron-LM before FlashAttention): batched QK^T over every
  // (query, key) pair, masked softmax with dropout as a memory-bound pass over the scores, then PV;
  // backward: dV, dP, the softmax/dropout backward, dQ, dK. Executed FLOPs cover all s_q x s_kv
  // pairs; model FLOPs keep the causal convention of the fused op.
  void unfused_attention(const AttentionShape& a, double fraction, bool dropout) {
    const double causal_fwd = 4.0 * double(a.head_dim) * a.pairs * a.heads_q * double(a.batch) * fraction;
    const std::int64_t keys = static_cast<std::int64_t>(double(a.seq_kv) * fraction);
    const std::int64_t products = std::int64_t(a.heads_q) * a.batch;
    const double scores = double(products) * double(a.seq_q) * double(keys);
    const std::size_t first = ops_.size();
    double model_share = 0;
    if (pass_ == Pass::backward) {
      gemm("attention_dv", keys, a.head_dim, a.seq_q, products);
      gemm("attention_dprobs", a.seq_q, keys, a.head_dim, products);
      elementwise("softmax_dropout_bwd", (dropout ? 7.0 : 6.0) * scores, 4.0 * scores);
      gemm("attention_dq", a.seq_q, a.head_dim, keys, products);
      gemm("attention_dk", keys, a.head_dim, a.seq_q, products);
      model_share = 2.0 * causal_fwd / 4;
    } else {
      gemm("attention_scores", a.seq_q, keys, a.head_dim, products);
      elementwise("softmax_dropout", (dropout ? 7.0 : 4.0) * scores, 5.0 * scores);
      gemm("attention_context", a.seq_q, a.head_dim, keys, products);
      model_share = causal_fwd / 2;
    }
    for (std::size_t i = first; i < ops_.size(); ++i)
      if (ops_[i].kind == OpKind::gemm) ops_[i].model_flops = pass_ == Pass::recompute ? 0 : model_share;
  }
  // Forward GEMM y[m,n] = x[m,k] W[k,n]; its backward is dx = dy W^T and dW = x^T dy.
  void linear(std::string_view fwd, std::string_view dgrad, std::string_view wgrad, std::int64_t m, std::int64_t n,
              std::int64_t k) {
    if (pass_ != Pass::backward) return gemm(fwd, m, n, k);
    gemm(dgrad, m, k, n);
    weight_gradient(wgrad, k, n, m);
  }
  // Weight gradient dW[k,n] = x^T[k,m] dy[m,n] of a linear layer.
  void weight_gradient(std::string_view name, std::int64_t k, std::int64_t n, std::int64_t m) {
    gemm(name, k, n, m);
    ops_.back().weight_gradient = true;
  }
  void elementwise(std::string_view name, double bytes, double flops = 0, OpKind kind = OpKind::elementwise) {
    Op op = base(name, kind);
    op.bytes = bytes;
    op.flops = flops;
    ops_.push_back(op);
  }
  void attention(std::string_view name, const AttentionShape& a, double fraction = 1.0) {
    Op op = base(name, OpKind::attention);
    op.attention = a;
    // Forward: S = QK^T and O = PV, 2 FLOPs per multiply-add, over the unmasked pairs.
    const double fwd = 4.0 * double(a.head_dim) * a.pairs * a.heads_q * double(a.batch) * fraction;
    const double q_bytes = kAct * double(a.batch) * a.seq_q * a.heads_q * a.head_dim;
    const double kv_bytes = kAct * double(a.batch) * a.seq_kv * a.heads_kv * a.head_dim * fraction;
    if (pass_ == Pass::backward) {
      op.flops = 2.5 * fwd;        // recomputes S, then dV, dP, dQ, dK: five products to the forward's two
      op.model_flops = 2.0 * fwd;  // the usual backward = 2 x forward convention
      op.bytes = 4 * q_bytes + 4 * kv_bytes;
    } else {
      op.flops = fwd;
      op.model_flops = pass_ == Pass::recompute ? 0 : fwd;
      op.bytes = 2 * q_bytes + 2 * kv_bytes;
    }
    ops_.push_back(op);
  }
  void collective(std::string_view name, Collective c, Axis group, double bytes, Stream stream, int after = 1) {
    Op op = base(name, OpKind::collective);
    op.stream = stream;
    op.collective = c;
    op.group = group;
    op.comm_bytes = bytes;
    op.after = after;
    ops_.push_back(op);
  }
  /// Index the next op will have.
  int next() const { return static_cast<int>(ops_.size()); }
  /// The last op (a transfer) runs on the copy engines and holds no SMs.
  void on_copy_engines() { ops_.back().copy_engine = true; }
  /// The last op waits for the op at `index` (-1: for nothing beyond its stream).
  void last_waits_for(int index) { ops_.back().after = index < 0 ? 0 : next() - 1 - index; }
  /// The op at `at` waits for the op at `index` (-1: for nothing beyond its stream).
  void waits_for(int at, int index) { ops_[static_cast<std::size_t>(at)].after = index < 0 ? 0 : at - index; }

 private:
  Op base(std::string_view name, OpKind kind) const {
    Op op;
    op.name = name;
    op.kind = kind;
    op.pass = pass_;
    return op;
  }
  std::vector<Op>& ops_;
  Pass pass_;
};

struct Shard {
  std::int64_t tokens;     // T: tokens in TP regions (micro_batch * s / cp)
  std::int64_t sp_tokens;  // tokens in norm/residual regions (T / tp under sequence parallelism)
  std::int64_t h, q, kv, f, mlp_out;  // widths on this rank
  bool sp;
  int tp;
};

Shard shard_of(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  Shard s;
  s.tokens = local_tokens(p, seq_len);
  s.sp = p.sequence_parallel && p.tp > 1;
  s.sp_tokens = s.sp ? s.tokens / p.tp : s.tokens;
  s.h = m.hidden;
  s.q = heads_per_rank(m, p) * m.head_dim;
  s.kv = kv_heads_per_rank(m, p) * m.head_dim;
  s.f = m.ffn_hidden / p.tp;
  s.mlp_out = m.mlp == MlpKind::swiglu ? 2 * s.f : s.f;
  s.tp = p.tp;
  return s;
}

// Before a TP region: all-gather the sequence-parallel input, or nothing (the input is replicated).
void enter_tp_region(ProgramBuilder& b, const Shard& s, std::string_view name) {
  if (s.sp) b.collective(name, Collective::all_gather, Axis::tp, kAct * double(s.tokens) * s.h, Stream::tp_comm);
}
// After a TP region: reduce-scatter to the sequence-parallel layout, or all-reduce.
void leave_tp_region(ProgramBuilder& b, const Shard& s, std::string_view rs_name, std::string_view ar_name) {
  if (s.tp == 1) return;
  b.collective(s.sp ? rs_name : ar_name, s.sp ? Collective::reduce_scatter : Collective::all_reduce, Axis::tp,
               kAct * double(s.tokens) * s.h, Stream::tp_comm);
}

// TP communication overlapped with its GEMM (Transformer Engine's userbuffers; Wang et al., "Overlap
// Communication with Dependent Computation via Decomposition", ASPLOS'23): the sequence-parallel
// tensor is cut into its tp shards, and the GEMM is cut along the tokens with it.
bool overlapped(const PlanSpec& p, const Shard& s) { return p.tp_comm_overlap && s.sp; }

// All-gather then GEMM, as a ring exchange: each of tp - 1 steps passes the shard a rank holds to its
// neighbour while the GEMM works on it; the local shard needs no transfer, so the first piece starts
// at once. Returns the index of the last transfer (the whole gathered tensor is there after it).
int gathered_gemm(ProgramBuilder& b, const Shard& s, std::string_view gather, std::string_view gemm, std::int64_t n,
                  std::int64_t k) {
  const double shard = kAct * double(s.sp_tokens) * s.h;
  int held = b.next() - 1;  // the op that produced the local shard
  for (int i = 0; i < s.tp; ++i) {
    int next = -1;
    if (i + 1 < s.tp) {
      b.collective(gather, Collective::send_recv, Axis::tp, shard, Stream::tp_comm);
      b.on_copy_engines();
      b.last_waits_for(held);
      next = b.next() - 1;
    }
    b.gemm(gemm, s.sp_tokens, n, k);
    b.last_waits_for(held);
    held = next < 0 ? held : next;
  }
  return held;
}

// GEMM then reduce-scatter: the GEMM's output rows are computed shard by shard, each sent to the
// rank that owns it while the next shard computes (the own shard last); the received partial sums
// are then added into this rank's shard.
void scattered_gemm(ProgramBuilder& b, const Shard& s, std::string_view gemm, std::string_view scatter, std::int64_t n,
                    std::int64_t k) {
  const double shard = kAct * double(s.sp_tokens) * s.h;
  int sent = -1;
  for (int i = 0; i < s.tp; ++i) {
    b.gemm(gemm, s.sp_tokens, n, k);
    if (i > 0) b.last_waits_for(-1);  // after the previous piece, not the transfer between them
    if (i + 1 < s.tp) {
      b.collective(scatter, Collective::send_recv, Axis::tp, shard, Stream::tp_comm);
      b.on_copy_engines();
      sent = b.next() - 1;
    }
  }
  b.elementwise("tp_overlap_reduce", double(s.tp + 1) * shard, double(s.tp - 1) * s.sp_tokens * s.h);
  b.last_waits_for(sent);
}

// The GEMM that opens a TP region (QKV, fc1), after the all-gather of its sequence-parallel input,
// overlapped or not.
void column_parallel(ProgramBuilder& b, const PlanSpec& p, const Shard& s, std::string_view gather, std::string_view gemm,
                     std::int64_t n) {
  if (overlapped(p, s)) {
    gathered_gemm(b, s, gather, gemm, n, s.h);
    return;
  }
  enter_tp_region(b, s, gather);
  b.linear(gemm, "", "", s.tokens, n, s.h);
}
// The GEMM that closes a TP region (out-projection, fc2), then its reduce-scatter or all-reduce.
void row_parallel(ProgramBuilder& b, const PlanSpec& p, const Shard& s, std::string_view gemm, std::string_view rs,
                  std::string_view ar, std::int64_t k) {
  if (overlapped(p, s)) return scattered_gemm(b, s, gemm, rs, s.h, k);
  b.linear(gemm, "", "", s.tokens, s.h, k);
  leave_tp_region(b, s, rs, ar);
}

// Residual add (read both, write one); with dropout fused in (Megatron's bias_dropout_add), its
// 1-byte mask is written in forward and read in backward.
double residual_bytes(const TransformerSpec& m, const Shard& s) {
  return (3 * kAct + (m.dropout ? 1.0 : 0.0)) * double(s.sp_tokens) * s.h;
}

// RoPE over the local Q and K heads (T x (q + kv) per rank), one fused kernel as Transformer
// Engine's (transformer_engine/common/fused_rope/fused_rope.cu, which Megatron-LM calls with
// apply_rope_fusion): it reads Q and K and writes them rotated, forward and backward. With partial
// rotary embeddings only rotary_fraction of each head is rotated (~6 FLOPs per rotated element: two
// multiplies and an add per output, with the sine and cosine), but the kernel still writes a whole
// new tensor, copying the unrotated dimensions through ("copy the rest" in fused_rope.cu), so its
// HBM bytes do not shrink with the fraction.
double rope_bytes(const Shard& s) { return 2 * kAct * double(s.tokens) * (s.q + s.kv); }
double rope_flops(const TransformerSpec& m, const Shard& s) { return 6.0 * double(s.tokens) * (s.q + s.kv) * m.rotary_fraction; }

// The MLP's element-wise activation over T x f/tp, as one fused kernel (Megatron-LM's
// bias_swiglu / bias_gelu fusions; Transformer Engine's srelu / dsrelu for squared ReLU,
// transformer_engine/common/activation/relu.cu). Bytes per element, BF16:
//   swiglu: read gate and up, write the product (6); backward reads gate, up and the output
//           gradient and writes both input gradients (10);
//   gelu and relu2: read the fc1 output, write the activation (4); backward reads the fc1 output
//           and the gradient, writes the input gradient (6).
// FLOPs per element: SwiGLU 4 / 8; GeLU (tanh form) 8 / 12; squared ReLU max(0, x)^2 is a compare
// and a multiply (2), its gradient 2 max(0, x) dy two multiplies and a compare (3).
void mlp_activation(ProgramBuilder& b, const TransformerSpec& m, const Shard& s, bool backward) {
  const double T = double(s.tokens);
  switch (m.mlp) {
    case MlpKind::swiglu:
      if (backward) b.elementwise("swiglu_bwd", 5 * kAct * T * s.f, 8.0 * T * s.f);
      else b.elementwise("swiglu", 3 * kAct * T * s.f, 4.0 * T * s.f);
      return;
    case MlpKind::gelu:
      if (backward) b.elementwise("gelu_bwd", 3 * kAct * T * s.f, 12.0 * T * s.f);
      else b.elementwise("gelu", 2 * kAct * T * s.f, 8.0 * T * s.f);
      return;
    case MlpKind::relu2:
      if (backward) b.elementwise("relu2_bwd", 3 * kAct * T * s.f, 3.0 * T * s.f);
      else b.elementwise("relu2", 2 * kAct * T * s.f, 2.0 * T * s.f);
      return;
  }
}

double norm_bytes(const Shard& s, bool backward) { return (backward ? 6.0 : 4.0) * kAct / 2 * double(s.sp_tokens) * s.h; }

// --- Eager PyTorch (plan.stack = pytorch_eager) ---------------------------------------------
// One kernel per PyTorch op, as torchtitan's Llama model launches them without torch.compile
// (pytorch/torchtitan: torchtitan/models/norms.py RMSNorm at commit
// 026e23a981dee27d41a8637baad651656698b6f8; torchtitan/models/llama/model.py apply_rotary_emb,
// repeat_kv, FeedForward and TransformerBlock at commit 0199cbc1ba671c15df501fd9aa8bb68afd4352fd). Views
// (reshape of a contiguous tensor, view_as_complex, view_as_real, transpose) launch nothing. Autograd
// runs one backward kernel per forward kernel, two where both inputs of a product need gradients,
// plus the reduction that sums a broadcast operand's gradient and the addition that accumulates the
// gradients of a tensor used twice. docs/models/stacks.md tabulates the bytes.
constexpr double kF32 = 4;  // bytes per FP32 element

bool eager(const PlanSpec& p) { return p.stack == Stack::pytorch_eager; }

// RMSNorm over r rows of width h, N = r*h elements, BF16 input:
//   output = self._norm(x.float()).type_as(x) * self.weight,
//   _norm(x) = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
// forward: float() 2+4 B/element, pow 4+4, mean reads 4 and writes one FP32 per row, + eps and
// rsqrt over the rows, x * rsqrt 4+4 (+ the row value), type_as 4+2, * weight 2+2 (+ the weight):
// 36 N + 24 r + 2 h bytes in 8 kernels (the fused kernel: 4 N).
void eager_rmsnorm(ProgramBuilder& b, const Shard& s) {
  const double r = double(s.sp_tokens), N = r * double(s.h), h = double(s.h);
  b.elementwise("rmsnorm_to_fp32", (kAct + kF32) * N);
  b.elementwise("rmsnorm_pow", 2 * kF32 * N, N);
  b.elementwise("rmsnorm_mean", kF32 * N + kF32 * r, N);
  b.elementwise("rmsnorm_add_eps", 2 * kF32 * r, r);
  b.elementwise("rmsnorm_rsqrt", 2 * kF32 * r, r);
  b.elementwise("rmsnorm_mul_rstd", 2 * kF32 * N + kF32 * r, N);
  b.elementwise("rmsnorm_to_bf16", (kF32 + kAct) * N);
  b.elementwise("rmsnorm_mul_weight", 2 * kAct * N + kAct * h, N);
}
// Its backward, in reverse: * weight gives dy*w (2+2 B/element + weight) and the weight gradient
// (dy*x_hat 2+2+2, then a sum over rows 2 B/element + the BF16 weight gradient); type_as 2+4;
// x * rstd gives g*rstd (4+4 + rows) and the rstd gradient (g*x 4+4+4, sum over the row 4 + rows);
// rsqrt's backward over the rows (-0.5 g rstd^3: reads 2, writes 1 FP32 per row); + eps passes the
// gradient through; mean's backward expands the row gradient (writes 4 B/element); pow's backward
// (2 x g: 4+4+4); the two gradients of x.float() are added (4+4+4); float()'s backward 4+2:
// 76 N + 24 r + 4 h bytes in 12 kernels (the fused backward: 6 N).
void eager_rmsnorm_bwd(ProgramBuilder& b, const Shard& s) {
  const double r = double(s.sp_tokens), N = r * double(s.h), h = double(s.h);
  b.elementwise("rmsnorm_mul_weight_bwd", 2 * kAct * N + kAct * h, N);
  b.elementwise("rmsnorm_weight_grad_mul", 3 * kAct * N, N);
  b.elementwise("rmsnorm_weight_grad_sum", kAct * N + kAct * h, N);
  b.elementwise("rmsnorm_to_bf16_bwd", (kAct + kF32) * N);
  b.elementwise("rmsnorm_mul_rstd_bwd", 2 * kF32 * N + kF32 * r, N);
  b.elementwise("rmsnorm_rstd_grad_mul", 3 * kF32 * N, N);
  b.elementwise("rmsnorm_rstd_grad_sum", kF32 * N + kF32 * r, N);
  b.elementwise("rmsnorm_rsqrt_bwd", 3 * kF32 * r, 3 * r);
  b.elementwise("rmsnorm_mean_bwd", kF32 * N + kF32 * r, N);
  b.elementwise("rmsnorm_pow_bwd", 3 * kF32 * N, 2 * N);
  b.elementwise("rmsnorm_grad_accumulate", 3 * kF32 * N, N);
  b.elementwise("rmsnorm_to_fp32_bwd", (kF32 + kAct) * N);
}

// apply_rotary_emb on Q and K, each of E elements: float() (2+4 B/element), complex multiply by
// freqs_cis (4+4, the FP32 complex table of s x head_dim/2 is read too) and type_as (4+2): 20 E in
// three kernels per tensor (the fused kernel: 4 E over Q and K together). Backward, per tensor:
// type_as 2+4, the product's gradient g * conj(freqs_cis) 4+4 (freqs_cis needs none), float() 4+2.
// One tensor's three kernels: a cast (2 + 4 B/element either way), the complex product, a cast back.
void eager_rope_tensor(ProgramBuilder& b, const std::array<std::string_view, 3>& names, double elements, double table,
                       double rho) {
  b.elementwise(names[0], (kAct + kF32) * elements);
  b.elementwise(names[1], 2 * kF32 * elements + table, 3 * elements * rho);
  b.elementwise(names[2], (kF32 + kAct) * elements);
}
void eager_rope(ProgramBuilder& b, const TransformerSpec& m, const Shard& s, std::int64_t seq_q, bool backward) {
  const double T = double(s.tokens), table = kF32 * double(seq_q) * double(m.head_dim);
  const double eq = T * double(s.q), ek = T * double(s.kv), rho = m.rotary_fraction;
  if (backward) {
    eager_rope_tensor(b, {"rope_q_to_bf16_bwd", "rope_q_complex_mul_bwd", "rope_q_to_fp32_bwd"}, eq, table, rho);
    eager_rope_tensor(b, {"rope_k_to_bf16_bwd", "rope_k_complex_mul_bwd", "rope_k_to_fp32_bwd"}, ek, table, rho);
    return;
  }
  eager_rope_tensor(b, {"rope_q_to_fp32", "rope_q_complex_mul", "rope_q_to_bf16"}, eq, table, rho);
  eager_rope_tensor(b, {"rope_k_to_fp32", "rope_k_complex_mul", "rope_k_to_bf16"}, ek, table, rho);
}

// repeat_kv (grouped-query attention before scaled_dot_product_attention): unsqueeze, expand and
// reshape copy K and V to one head per query head, reading 2 B and writing n_rep x 2 B per local
// K/V element; backward sums the copies back (expand's gradient). None when heads_q = heads_kv.
void eager_repeat_kv(ProgramBuilder& b, const Shard& s, bool backward) {
  if (s.q == s.kv) return;
  const double T = double(s.tokens), bytes = kAct * T * double(s.kv + s.q);
  if (backward) {
    b.elementwise("repeat_kv_k_bwd", bytes, T * double(s.q));
    b.elementwise("repeat_kv_v_bwd", bytes, T * double(s.q));
    return;
  }
  b.elementwise("repeat_kv_k", bytes);
  b.elementwise("repeat_kv_v", bytes);
}

// F.silu(self.w1(x)) * self.w3(x) over E = T x f/tp elements: silu 2+2 B/element, the product
// 2+2+2: 10 E in two kernels (fused: 6 E). Backward: the product's two gradients (dy*up and
// dy*silu(gate), 2+2+2 each) and silu's backward (2+2+2): 18 E in three kernels (fused: 10 E).
void eager_swiglu(ProgramBuilder& b, const Shard& s, bool backward) {
  const double E = double(s.tokens) * double(s.f);
  if (backward) {
    b.elementwise("silu_mul_bwd_gate", 3 * kAct * E, E);
    b.elementwise("silu_mul_bwd_up", 3 * kAct * E, E);
    b.elementwise("silu_bwd", 3 * kAct * E, 6.0 * E);
    return;
  }
  b.elementwise("silu", 2 * kAct * E, 4.0 * E);
  b.elementwise("silu_mul", 3 * kAct * E, E);
}

// The norm ops of the stack: one fused kernel, or the eager sequence (RMSNorm; a LayerNorm keeps
// its fused kernel: torch.nn.LayerNorm is one kernel in eager PyTorch too).
void norm_ops(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, const Shard& s, std::string_view fused,
              bool backward) {
  if (eager(p) && m.norm == NormKind::rmsnorm) return backward ? eager_rmsnorm_bwd(b, s) : eager_rmsnorm(b, s);
  if (backward) b.elementwise(fused, norm_bytes(s, true), 8.0 * s.sp_tokens * s.h);
  else b.elementwise(fused, norm_bytes(s, false), 4.0 * s.sp_tokens * s.h);
}

// RoPE over Q and K (none for other position embeddings): the stack's kernels.
void rope_ops(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, const Shard& s, std::int64_t seq_len,
              bool backward) {
  if (m.position != PositionKind::rope) return;
  if (eager(p)) eager_rope(b, m, s, seq_len / p.cp, backward);
  else b.elementwise(backward ? "rope_bwd" : "rope", rope_bytes(s), rope_flops(m, s));
}

AttentionShape attention_shape(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  AttentionShape a;
  a.batch = p.micro_batch;
  a.heads_q = heads_per_rank(m, p);
  a.heads_kv = kv_heads_per_rank(m, p);
  a.seq_q = seq_len / p.cp;
  a.seq_kv = seq_len;
  a.head_dim = m.head_dim;
  a.pairs = causal_pairs(seq_len, p.cp);
  a.kernel = p.attention_kernel;
  return a;
}

// The attention kernel(s) for one step of the core: fused, or the unfused sequence.
void attend(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, const AttentionShape& a, double fraction = 1.0) {
  if (p.flash_attention) b.attention("attention", a, fraction);
  else b.unfused_attention(a, fraction, m.dropout);
}

void attention_core(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len, bool backward) {
  const AttentionShape a = attention_shape(m, p, seq_len);
  const double kv_chunk = 2 * kAct * double(p.micro_batch) * (seq_len / p.cp) * a.heads_kv * m.head_dim;  // K and V
  if (p.cp == 1) return attend(b, m, p, a);
  if (p.cp_algorithm == CpAlgorithm::allgather) {
    // Llama 3: all-gather K and V (small under GQA), attend locally. Only the local K/V chunk is kept
    // for backward, which gathers K and V again and reduce-scatters dK, dV (as Transformer Engine's
    // all-gather context parallelism does).
    b.collective(backward ? "cp_all_gather_kv_bwd" : "cp_all_gather_kv", Collective::all_gather, Axis::cp,
                 kv_chunk * p.cp, Stream::cp_comm);
    attend(b, m, p, a);
    if (backward)
      b.collective("cp_reduce_scatter_dkv", Collective::reduce_scatter, Axis::cp, kv_chunk * p.cp, Stream::cp_comm);
    return;
  }
  // Ring (Megatron-LM / Transformer Engine): cp steps; the K/V chunk for step i+1 travels while
  // step i computes. Backward also passes dK/dV around, so twice the bytes per step.
  const double step_bytes = backward ? 2 * kv_chunk : kv_chunk;
  const int before = b.next() - 1;  // the op that produced Q, K, V (or the incoming gradient)
  int received = -1;                // the transfer that brings this step's chunk
  for (int i = 0; i < p.cp; ++i) {
    int sent = -1;
    if (i + 1 < p.cp) {
      b.collective("cp_ring_send_recv", Collective::send_recv, Axis::cp, step_bytes, Stream::cp_comm);
      b.last_waits_for(received >= 0 ? received : before);
      sent = b.next() - 1;
    }
    const int step_start = b.next();
    attend(b, m, p, a, 1.0 / p.cp);
    b.waits_for(step_start, received >= 0 ? received : before);
    received = sent;
  }
}

void forward_layer(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len, const Shard& s,
                   bool selective_only) {
  if (selective_only) {  // selective recomputation redoes the attention core alone
    attention_core(b, m, p, seq_len, false);
    return;
  }
  norm_ops(b, m, p, s, "attn_norm", false);
  column_parallel(b, p, s, "tp_all_gather_attn", "qkv_proj", s.q + 2 * s.kv);
  rope_ops(b, m, p, s, seq_len, false);
  if (eager(p)) eager_repeat_kv(b, s, false);
  attention_core(b, m, p, seq_len, false);
  row_parallel(b, p, s, "out_proj", "tp_reduce_scatter_attn", "tp_all_reduce_attn", s.q);
  b.elementwise("residual_add", residual_bytes(m, s), double(s.sp_tokens) * s.h);
  norm_ops(b, m, p, s, "mlp_norm", false);
  column_parallel(b, p, s, "tp_all_gather_mlp", "fc1", s.mlp_out);
  if (eager(p) && m.mlp == MlpKind::swiglu) eager_swiglu(b, s, false);
  else mlp_activation(b, m, s, false);
  row_parallel(b, p, s, "fc2", "tp_reduce_scatter_mlp", "tp_all_reduce_mlp", s.f);
  b.elementwise("residual_add", residual_bytes(m, s), double(s.sp_tokens) * s.h);
}

// What backward reruns under torchtitan's per-op selective checkpointing (recompute = op;
// torchtitan/models/llama/parallelize_llama.py, _custom_policy, December 2024: "Saves output of all
// compute ops, except every second mm"; its save list holds aten.mm, the flash and memory-efficient
// scaled-dot-product attentions and the TP reduce-scatter, and a counter of the block's matmuls
// skips the even-numbered ones). The block's matmuls run in the order wq, wk, wv, wo, w1, w3, w2
// (torchtitan/models/llama/model.py), so the outputs of wq, wv, w1 and w2 are kept with the
// attention's (a GeLU or squared-ReLU MLP keeps fc1's, the fifth). torch.utils.checkpoint reruns the
// block's forward, taking kept outputs from the cache, until the last tensor backward needs (early
// stop): the norms, wk (its input gathered again under sequence parallelism), RoPE (and repeat_kv in
// eager PyTorch), wo (its reduction too, unless a kept reduce-scatter gives its output), the
// residual add, and the MLP's activation with w3 under SwiGLU; w2 and the last add are not rerun.
void recompute_op_policy(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len,
                         const Shard& s) {
  norm_ops(b, m, p, s, "attn_norm", false);
  column_parallel(b, p, s, "tp_all_gather_attn", "k_proj", s.kv);
  rope_ops(b, m, p, s, seq_len, false);
  if (eager(p)) eager_repeat_kv(b, s, false);
  b.linear("out_proj", "", "", s.tokens, s.h, s.q);
  if (!s.sp) leave_tp_region(b, s, "tp_reduce_scatter_attn", "tp_all_reduce_attn");
  b.elementwise("residual_add", residual_bytes(m, s), double(s.sp_tokens) * s.h);
  norm_ops(b, m, p, s, "mlp_norm", false);
  if (m.mlp == MlpKind::swiglu) {
    column_parallel(b, p, s, "tp_all_gather_mlp", "up_proj", s.f);
    if (eager(p)) eager_swiglu(b, s, false);
    else mlp_activation(b, m, s, false);
  } else {
    mlp_activation(b, m, s, false);
  }
}

// Backward of the GEMM that closes a TP region (out-projection or fc2): the output gradient is
// all-gathered (sequence parallelism) for the data and the weight gradient. With overlap, the data
// gradient runs shard by shard as the gradient arrives; the weight gradient needs all of it.
void output_grad_linear(ProgramBuilder& b, const PlanSpec& p, const Shard& s, std::string_view gather,
                        std::string_view dgrad, std::string_view wgrad, std::int64_t k) {
  if (!overlapped(p, s)) {
    if (s.sp) b.collective(gather, Collective::all_gather, Axis::tp, kAct * double(s.tokens) * s.h, Stream::tp_comm);
    b.linear("", dgrad, wgrad, s.tokens, s.h, k);
    return;
  }
  const int gathered = gathered_gemm(b, s, gather, dgrad, k, s.h);
  b.weight_gradient(wgrad, k, s.h, s.tokens);
  b.last_waits_for(gathered);
}

// Backward of the GEMM that opens a TP region (QKV or fc1). Megatron-LM: under sequence parallelism
// only the sharded norm output was kept, so it is gathered again for the weight gradient while the
// data gradient runs; the data gradient's reduction overlaps the weight gradient (Korthikanti et al.
// 2022). PyTorch (DTensor sequence parallelism, torchtitan's Llama): autograd kept the gathered input
// as the matmuls' saved tensor, so nothing is gathered again; the input gradient is the sum of
// several matmuls' (wq, wk, wv; w1, w3), each computed in the same autograd node as its weight
// gradient, so its reduction starts after the weight gradients, and torch.compile's micro-pipelined
// TP, which decomposes only a single matmul feeding a reduce-scatter, leaves it whole
// (torch/_inductor/fx_passes/micro_pipeline_tp.py, fuse_matmul_reduce_scatter).
void input_grad_linear(ProgramBuilder& b, const PlanSpec& p, const Shard& s, std::string_view gather, std::string_view dgrad,
                       std::string_view wgrad, std::int64_t n, std::string_view rs, std::string_view ar) {
  const int upstream = b.next() - 1;
  int gathered = -1;
  if (s.sp && !p.pytorch()) {
    b.collective(gather, Collective::all_gather, Axis::tp, kAct * double(s.tokens) * s.h, Stream::tp_comm);
    b.last_waits_for(-1);
    gathered = b.next() - 1;
  }
  b.gemm(dgrad, s.tokens, s.h, n);
  b.last_waits_for(upstream);
  const int dgrad_index = b.next() - 1;
  b.weight_gradient(wgrad, s.h, n, s.tokens);
  b.last_waits_for(gathered >= 0 ? gathered : dgrad_index);
  if (s.tp > 1) {
    leave_tp_region(b, s, rs, ar);
    if (!p.pytorch()) b.last_waits_for(dgrad_index);
  }
}

void backward_layer(ProgramBuilder& b, const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len, const Shard& s) {
  // MLP block, in reverse.
  output_grad_linear(b, p, s, "tp_all_gather_mlp_grad", "fc2_dgrad", "fc2_wgrad", s.f);
  if (eager(p) && m.mlp == MlpKind::swiglu) eager_swiglu(b, s, true);
  else mlp_activation(b, m, s, true);
  input_grad_linear(b, p, s, "tp_all_gather_mlp_input", "fc1_dgrad", "fc1_wgrad", s.mlp_out, "tp_reduce_scatter_mlp_grad",
                    "tp_all_reduce_mlp_grad");
  norm_ops(b, m, p, s, "mlp_norm_bwd", true);
  b.elementwise("residual_add_bwd", residual_bytes(m, s), double(s.sp_tokens) * s.h);
  // Attention block, in reverse.
  output_grad_linear(b, p, s, "tp_all_gather_attn_grad", "out_proj_dgrad", "out_proj_wgrad", s.q);
  attention_core(b, m, p, seq_len, true);
  if (eager(p)) eager_repeat_kv(b, s, true);
  rope_ops(b, m, p, s, seq_len, true);
  input_grad_linear(b, p, s, "tp_all_gather_attn_input", "qkv_proj_dgrad", "qkv_proj_wgrad", s.q + 2 * s.kv,
                    "tp_reduce_scatter_attn_grad", "tp_all_reduce_attn_grad");
  norm_ops(b, m, p, s, "attn_norm_bwd", true);
  b.elementwise("residual_add_bwd", residual_bytes(m, s), double(s.sp_tokens) * s.h);
}

}  // namespace

LayerProgram layer_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  LayerProgram prog;
  const Shard s = shard_of(m, p, seq_len);
  ProgramBuilder fwd(prog.forward, Pass::forward);
  forward_layer(fwd, m, p, seq_len, s, false);
  if (p.recompute != Recompute::none) {
    ProgramBuilder re(prog.backward, Pass::recompute);
    if (p.recompute == Recompute::op) recompute_op_policy(re, m, p, seq_len, s);
    else forward_layer(re, m, p, seq_len, s, p.recompute == Recompute::selective);
  }
  ProgramBuilder bwd(prog.backward, Pass::backward);
  backward_layer(bwd, m, p, seq_len, s);
  return prog;
}

LayerProgram embedding_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  LayerProgram prog;
  const Shard s = shard_of(m, p, seq_len);
  const double T = double(s.tokens);
  ProgramBuilder fwd(prog.forward, Pass::forward);
  // Vocab-parallel lookup: each TP rank fills the rows it owns, then a TP reduction combines them.
  fwd.elementwise("embedding", 2 * kAct * T * s.h, 0, OpKind::embedding);
  if (m.position == PositionKind::learned) fwd.elementwise("position_add", 3 * kAct * T * s.h, T * s.h);
  leave_tp_region(fwd, s, "tp_reduce_scatter_embedding", "tp_all_reduce_embedding");
  ProgramBuilder bwd(prog.backward, Pass::backward);
  if (s.sp) bwd.collective("tp_all_gather_embedding_grad", Collective::all_gather, Axis::tp, kAct * T * s.h, Stream::tp_comm);
  // Scatter-add into the FP32 gradient of the table rows this rank owns.
  bwd.elementwise("embedding_bwd", kAct * T * s.h + 2 * 4.0 * T * s.h, T * s.h, OpKind::embedding);
  return prog;
}

LayerProgram output_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len) {
  LayerProgram prog;
  const Shard s = shard_of(m, p, seq_len);
  const double T = double(s.tokens);
  const std::int64_t v = padded_vocab(m, p) / p.tp;
  const double logits = T * double(v);
  ProgramBuilder fwd(prog.forward, Pass::forward);
  norm_ops(fwd, m, p, s, "final_norm", false);
  enter_tp_region(fwd, s, "tp_all_gather_output");
  fwd.linear("output_proj", "", "", s.tokens, v, s.h);
  // Vocab-parallel cross-entropy: local max and sum of exponentials, two small TP all-reduces.
  fwd.elementwise("cross_entropy", (kAct + 4.0) * logits, 5.0 * logits, OpKind::loss);
  if (p.tp > 1) fwd.collective("tp_all_reduce_loss", Collective::all_reduce, Axis::tp, 2 * 4.0 * T, Stream::tp_comm);
  ProgramBuilder bwd(prog.backward, Pass::backward);
  bwd.elementwise("cross_entropy_bwd", (4.0 + kAct) * logits, 3.0 * logits, OpKind::loss);
  bwd.linear("", "output_proj_dgrad", "output_proj_wgrad", s.tokens, v, s.h);
  leave_tp_region(bwd, s, "tp_reduce_scatter_output_grad", "tp_all_reduce_output_grad");
  norm_ops(bwd, m, p, s, "final_norm_bwd", true);
  // Padding rows of the vocabulary are executed but are not model FLOPs.
  const double useful = double(m.vocab) / double(padded_vocab(m, p));
  for (auto* ops : {&prog.forward, &prog.backward})
    for (auto& op : *ops)
      if (op.kind == OpKind::gemm) op.model_flops *= useful;
  return prog;
}

Op optimizer_op(double parameters, int state_bytes) {
  Op op;
  op.name = "adamw";
  op.kind = OpKind::optimizer;
  op.pass = Pass::optimizer;
  // Fused AdamW: read the state and the gradient (4 B), write the state back. With an FP32 master
  // copy in the state (12 B) it also writes the BF16 copy (2 B): 16 + 14 = 30 B; without one (BF16
  // m, v: 4 B) it reads and writes the BF16 weights: 10 + 6 = 16 B.
  const bool master_copy = state_bytes >= 12;
  op.bytes = (2.0 * state_bytes + 4 + (master_copy ? 2 : 4)) * parameters;
  op.flops = 12.0 * parameters;
  return op;
}

double model_flops_per_token(const TransformerSpec& m, std::int64_t seq_len) {
  const double h = double(m.hidden);
  const double matrices_per_layer = 2 * h * m.q_dim() + 2 * h * m.kv_dim() + m.mlp_matrices() * h * m.ffn_hidden;
  const double matrices = m.layers * matrices_per_layer + h * double(m.vocab);
  // Causal attention: a token at position i attends to i keys, (s+1)/2 on average; QK^T and PV.
  const double attention = m.layers * 2.0 * m.q_dim() * double(seq_len + 1);
  return 3.0 * (2.0 * matrices + attention);
}

double total_flops(const std::vector<Op>& ops, bool model) {
  double sum = 0;
  for (const auto& op : ops) sum += model ? op.model_flops : op.flops;
  return sum;
}

}  // namespace herd::model
