#pragma once
// A dense decoder-only Transformer: Llama-style (GQA, SwiGLU, RMSNorm, RoPE, untied), GPT-style
// (MHA, GeLU 4h MLP, LayerNorm, learned positions, tied, biases) or Nemotron-4-style (GQA, squared-ReLU
// MLP, LayerNorm, RoPE on half of each head), and its exact parameter counts.
#include <cstdint>
#include <string>

namespace herd::model {

/// swiglu: gated, SiLU(x W_gate) * (x W_up), three matrices (Llama). gelu: x W_up through GeLU, two
/// matrices (GPT-3). relu2: x W_up through squared ReLU, max(0, x)^2, two matrices (So et al. 2021,
/// "Primer", arXiv:2109.08668; Nemotron-4 15B arXiv:2402.16819 §2 and 340B arXiv:2406.11704 §2.1).
enum class MlpKind { swiglu, gelu, relu2 };
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
  /// Fraction of each query/key head's dimensions that RoPE rotates (1: all; Nemotron-4 0.5,
  /// GPT-NeoX/Pythia 0.25, Phi-2 0.4); the rest passes through unrotated. No parameters.
  double rotary_fraction = 1.0;

  std::int64_t q_dim() const { return heads * head_dim; }
  std::int64_t kv_dim() const { return kv_heads * head_dim; }
  /// Weight matrices of the MLP: SwiGLU has gate, up and down; GeLU and squared ReLU have up and down.
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
