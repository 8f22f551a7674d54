#pragma once
// A dense decoder-only Transformer: Llama-style (GQA, SwiGLU, RMSNorm, RoPE, untied) or GPT-style
// (MHA, GeLU 4h MLP, LayerNorm, learned positions, tied, biases), and its exact parameter counts.
#include <cstdint>
#include <string>

namespace herd::model {

enum class MlpKind { swiglu, gelu };
enum class NormKind { rmsnorm, layernorm };
enum class PositionKind { rope, learned };

struct TransformerSpec {
  std::string name;
  std::string source;
  int layers = 0;
  std::int64_t hidden = 0;       ///< h
  std::int64_t ffn_hidden = 0;   ///< f (SwiGLU: per branch)
  int heads = 0;
  int kv_heads = 0;
  std::int64_t head_dim = 0;
  std::int64_t vocab = 0;
  bool tied_embeddings = false;
  MlpKind mlp = MlpKind::swiglu;
  NormKind norm = NormKind::rmsnorm;
  PositionKind position = PositionKind::rope;
  bool bias = false;
  bool dropout = false;
  std::int64_t seq_len = 0;
  std::int64_t max_position = 0;

  std::int64_t q_dim() const { return heads * head_dim; }
  std::int64_t kv_dim() const { return kv_heads * head_dim; }
  /// Weight matrices of the MLP: SwiGLU has gate, up and down; GeLU has up and down.
  int mlp_matrices() const { return mlp == MlpKind::swiglu ? 3 : 2; }
  std::int64_t norm_params() const { return norm == NormKind::rmsnorm ? hidden : 2 * hidden; }
};

/// Exact parameter counts (no padding). Closed forms in docs/models/workload.md.
struct ParameterCounts {
  std::int64_t attention = 0;     ///< per layer: Q, K, V, O (+ biases)
  std::int64_t mlp = 0;           ///< per layer (+ biases)
  std::int64_t layer_norms = 0;   ///< per layer: two norms
  std::int64_t per_layer = 0;
  std::int64_t embedding = 0;     ///< token table (+ learned positions)
  std::int64_t output = 0;        ///< output projection; 0 when tied
  std::int64_t final_norm = 0;
  std::int64_t total = 0;
};

ParameterCounts count_parameters(const TransformerSpec& m);

}  // namespace herd::model
