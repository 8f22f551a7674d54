#pragma once
// The shape of one Transformer layer as one GPU computes it: the tensor-parallel shard of a
// Llama-style layer (RMSNorm, QKV projection, RoPE, causal GQA attention, output projection,
// SwiGLU MLP, residuals) for one micro-batch, without the TP collectives around it.
#include <cstdint>
#include <string>

#include "herd/model/architecture.hpp"
#include "herd/model/plan.hpp"
#include "herd/model/workload.hpp"

namespace herd::calibrate {

struct LayerDims {
  std::int64_t batch = 1;     ///< sequences per micro-batch
  std::int64_t seq = 0;       ///< tokens per sequence (positions 0..seq-1, causal)
  std::int64_t hidden = 0;    ///< h (not sharded)
  int heads_q = 0;            ///< query heads on this rank
  int heads_kv = 0;           ///< key/value heads on this rank (divides heads_q)
  std::int64_t head_dim = 0;  ///< even (RoPE rotates pairs)
  std::int64_t ffn = 0;       ///< SwiGLU width per branch on this rank
  double rope_theta = 500000;  ///< Llama 3's RoPE base (arXiv:2407.21783, Table 3)
  double norm_eps = 1e-5;      ///< Llama 3's RMSNorm epsilon (config.json rms_norm_eps)

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t q_width() const { return heads_q * head_dim; }
  std::int64_t kv_width() const { return heads_kv * head_dim; }
  /// Columns of the fused QKV projection: q | k | v.
  std::int64_t qkv_width() const { return q_width() + 2 * kv_width(); }
  /// "b1 s4096 h16384 q16 kv1 d128 f6656".
  std::string label() const;
};

/// The shard one TP rank computes for `seq_len` tokens per sequence (GQA K/V heads replicated
/// when tp exceeds them, as model::kv_heads_per_rank). Throws ValueError when tp does not divide
/// the heads or the MLP width, or the model is not a Llama-style (SwiGLU, RMSNorm, RoPE) one.
LayerDims shard_dims(const model::TransformerSpec& m, const model::PlanSpec& p, std::int64_t seq_len);

/// A single-rank model and plan whose layer_program() has exactly these shapes (no collectives),
/// so the workload model's op list, FLOPs and bytes describe what the backends run.
model::TransformerSpec single_rank_model(const LayerDims& d);
model::PlanSpec single_rank_plan(const LayerDims& d);

/// Throws ValueError (pointer `where`) unless every dimension is positive, head_dim is even and
/// heads_kv divides heads_q.
void validate(const LayerDims& d, const std::string& where);

/// The (attention-only) layer an attention op runs on: its batch, sequence and heads; hidden and
/// ffn 1. Throws ValueError ("/shape") unless seq_q = seq_kv (whole causal sequences) and valid.
LayerDims attention_layer(const model::AttentionShape& a);

}  // namespace herd::calibrate
