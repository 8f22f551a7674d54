#include "herd/model/architecture.hpp"

namespace herd::model {

ParameterCounts count_parameters(const TransformerSpec& m) {
  ParameterCounts c;
  const std::int64_t h = m.hidden;
  // Q and O are h x q_dim; K and V are h x kv_dim (GQA shares each K/V head among heads/kv_heads).
  c.attention = 2 * h * m.q_dim() + 2 * h * m.kv_dim();
  if (m.bias) c.attention += m.q_dim() + 2 * m.kv_dim() + h;
  c.mlp = m.mlp_matrices() * h * m.ffn_hidden;
  if (m.bias) c.mlp += (m.mlp_matrices() - 1) * m.ffn_hidden + h;
  c.layer_norms = 2 * m.norm_params();
  c.per_layer = c.attention + c.mlp + c.layer_norms;
  c.embedding = m.vocab * h + (m.position == PositionKind::learned ? m.max_position * h : 0);
  c.output = m.tied_embeddings ? 0 : m.vocab * h;
  c.final_norm = m.norm_params();
  c.total = c.per_layer * m.layers + c.embedding + c.output + c.final_norm;
  return c;
}

}  // namespace herd::model
