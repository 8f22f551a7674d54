#pragma once
// Lowering a Transformer onto one GPU's shard: every op of a layer's forward and backward with its
// shape, FLOPs and HBM bytes (per TP/CP shard, per micro-batch), the communication around it, the
// embedding, logits and loss, and the optimizer step. Equations in docs/models/workload.md.
#include <cstdint>
#include <string_view>
#include <vector>

#include "herd/model/architecture.hpp"
#include "herd/model/collective.hpp"
#include "herd/model/plan.hpp"

namespace herd::model {

enum class OpKind { gemm, attention, elementwise, embedding, loss, optimizer, collective };
enum class Pass { forward, backward, recompute, optimizer };
/// Where an op runs; ops on one stream run one after another. Its value is the stream's index
/// (the executor's queue, the trace's thread): compute first, then the communication streams.
enum class Stream : std::uint8_t { compute, tp_comm, cp_comm, pp_comm, dp_comm };
inline constexpr int kStreams = 5;
constexpr int index_of(Stream s) { return static_cast<int>(s); }

std::string_view to_string(OpKind);
std::string_view to_string(Pass);
std::string_view to_string(Stream);

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;  ///< output m x n, reduction k
  std::int64_t batch = 1;            ///< independent products of this shape (batched GEMM)
};

struct AttentionShape {
  std::int64_t batch = 0;
  int heads_q = 0, heads_kv = 0;        ///< on this GPU
  std::int64_t seq_q = 0, seq_kv = 0;   ///< local queries, keys they see
  std::int64_t head_dim = 0;
  double pairs = 0;                     ///< unmasked (query, key) pairs per head per sequence
  AttentionKernel kernel = AttentionKernel::cudnn;  ///< plan.attention_kernel
};

struct Op {
  std::string_view name;   ///< static literal: "qkv_proj", "attention", "tp_all_gather", ...
  OpKind kind = OpKind::elementwise;
  Pass pass = Pass::forward;
  Stream stream = Stream::compute;
  GemmShape gemm;
  AttentionShape attention;
  double flops = 0;        ///< hardware FLOPs executed
  double model_flops = 0;  ///< FLOPs counted for MFU (none for recomputation; attention backward = 2 x forward)
  double bytes = 0;        ///< HBM bytes read + written
  Collective collective = Collective::all_reduce;
  Axis group = Axis::tp;
  double comm_bytes = 0;   ///< collective buffer size, nccl-tests convention (all_gather: output, reduce_scatter: input)
  bool copy_engine = false;  ///< moved by the copy engines, holding no SMs (Transformer Engine's userbuffers ring exchange)
  /// A GEMM computing a weight gradient (dW = x^T dy; named "*_wgrad"): zero-bubble schedules defer
  /// these, and calibration measures them with the "tn" operand layout.
  bool weight_gradient = false;
  /// The op waits for the op `after` positions earlier in its program (0: no extra dependency;
  /// default 1: the previous op), besides the previous op on its own stream.
  int after = 1;
};

/// One transformer layer on one GPU for one micro-batch.
struct LayerProgram {
  std::vector<Op> forward;
  std::vector<Op> backward;  ///< starts with the recomputed forward ops when recomputation is on
};

/// Tokens one GPU processes per micro-batch in TP regions: micro_batch * seq_len / cp.
std::int64_t local_tokens(const PlanSpec& p, std::int64_t seq_len);
/// Query heads, key/value heads and K/V width on one TP rank (K/V heads are replicated when tp > kv_heads).
int heads_per_rank(const TransformerSpec& m, const PlanSpec& p);
int kv_heads_per_rank(const TransformerSpec& m, const PlanSpec& p);
/// Vocabulary padded to a multiple of 128 x tp (Megatron-LM's make-vocab-size-divisible-by).
std::int64_t padded_vocab(const TransformerSpec& m, const PlanSpec& p);
/// Unmasked causal (query, key) pairs per head per sequence on one CP rank with load-balanced
/// chunks: s(s+1) / (2 cp).
double causal_pairs(std::int64_t seq_len, int cp);

LayerProgram layer_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len);
/// Token embedding (vocab-parallel, then TP reduction) for one micro-batch.
LayerProgram embedding_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len);
/// Final norm, output projection, cross-entropy loss (vocab-parallel) for one micro-batch.
LayerProgram output_program(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len);
/// AdamW over `parameters` local parameters with `state_bytes` of optimizer state each (12: FP32
/// master, m, v, ~30 bytes moved per parameter; 4: BF16 m, v updating the BF16 weights, 16 bytes).
Op optimizer_op(double parameters, int state_bytes = 12);

/// Model FLOPs per token for forward + backward, no recomputation: 6 x (matrix parameters
/// touched per token) + causal attention 6 x layers x (s+1)/2 x 2 x q_dim. See docs/models/workload.md.
double model_flops_per_token(const TransformerSpec& m, std::int64_t seq_len);

/// Sum of model FLOPs and hardware FLOPs of a program (checked against model_flops_per_token in tests).
double total_flops(const std::vector<Op>& ops, bool model);

}  // namespace herd::model
