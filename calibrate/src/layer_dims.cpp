#include "herd/calibrate/layer_dims.hpp"

#include <cstdio>

#include "herd/model/error.hpp"
#include "herd/model/workload.hpp"

namespace herd::calibrate {

std::string LayerDims::label() const {
  char text[160];
  std::snprintf(text, sizeof text, "b%lld s%lld h%lld q%d kv%d d%lld f%lld", static_cast<long long>(batch),
                static_cast<long long>(seq), static_cast<long long>(hidden), heads_q, heads_kv,
                static_cast<long long>(head_dim), static_cast<long long>(ffn));
  return text;
}

void validate(const LayerDims& d, const std::string& where) {
  if (d.batch < 1 || d.seq < 1 || d.hidden < 1 || d.heads_q < 1 || d.heads_kv < 1 || d.head_dim < 2 || d.ffn < 1)
    throw model::ValueError(where, "every layer dimension must be positive (" + d.label() + ")");
  if (d.head_dim % 2 != 0) throw model::ValueError(where, "head_dim must be even for RoPE (" + d.label() + ")");
  if (d.heads_q % d.heads_kv != 0)
    throw model::ValueError(where, "key/value heads must divide query heads (" + d.label() + ")");
}

LayerDims attention_layer(const model::AttentionShape& a) {
  if (a.seq_q != a.seq_kv) throw model::ValueError("/shape", "the backends run whole causal sequences (seq_q = seq_kv)");
  LayerDims d;
  d.batch = a.batch;
  d.seq = a.seq_kv;
  d.hidden = 1;
  d.heads_q = a.heads_q;
  d.heads_kv = a.heads_kv;
  d.head_dim = a.head_dim;
  d.ffn = 1;
  validate(d, "/shape");
  return d;
}

LayerDims shard_dims(const model::TransformerSpec& m, const model::PlanSpec& p, std::int64_t seq_len) {
  if (m.mlp != model::MlpKind::swiglu || m.norm != model::NormKind::rmsnorm || m.position != model::PositionKind::rope)
    throw model::ValueError("/model", m.name + " is not a Llama-style layer (SwiGLU, RMSNorm, RoPE), which the backends run");
  if (p.tp < 1 || m.heads % p.tp != 0) throw model::ValueError("/plan/tp", "tp must divide the attention heads");
  if (m.ffn_hidden % p.tp != 0) throw model::ValueError("/plan/tp", "tp must divide the MLP width");
  LayerDims d;
  d.batch = p.micro_batch;
  d.seq = seq_len;
  d.hidden = m.hidden;
  d.heads_q = model::heads_per_rank(m, p);
  d.heads_kv = model::kv_heads_per_rank(m, p);
  d.head_dim = m.head_dim;
  d.ffn = m.ffn_hidden / p.tp;
  validate(d, "/model");
  return d;
}

model::TransformerSpec single_rank_model(const LayerDims& d) {
  model::TransformerSpec m;
  m.name = "layer " + d.label();
  m.layers = 1;
  m.hidden = d.hidden;
  m.ffn_hidden = d.ffn;
  m.heads = d.heads_q;
  m.kv_heads = d.heads_kv;
  m.head_dim = d.head_dim;
  m.vocab = 128;
  m.seq_len = d.seq;
  m.max_position = d.seq;
  return m;
}

model::PlanSpec single_rank_plan(const LayerDims& d) {
  model::PlanSpec p;
  p.micro_batch = static_cast<int>(d.batch);
  p.global_batch = d.batch;
  return p;
}

}  // namespace herd::calibrate
