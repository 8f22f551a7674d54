#include "model_report.hpp"

#include "herd/model/workload.hpp"

namespace herd::cli {

nlohmann::json model_report_json(const model::Scenario& s, const model::MemoryReport& mem) {
  using namespace model;
  using nlohmann::json;
  const auto& m = s.model;
  const auto& p = s.plan;
  const auto counts = count_parameters(m);
  json j;
  j["scenario"] = {{"name", s.name}, {"source", s.source}};
  j["model"] = {{"name", m.name}, {"layers", m.layers}, {"hidden", m.hidden}, {"ffn_hidden", m.ffn_hidden},
                {"heads", m.heads}, {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim}, {"vocab", m.vocab},
                {"seq_len", m.seq_len}};
  j["parameters"] = counts.total;
  j["parameters_breakdown"] = {{"per_layer", counts.per_layer}, {"attention_per_layer", counts.attention},
                               {"mlp_per_layer", counts.mlp}, {"norms_per_layer", counts.layer_norms},
                               {"embedding", counts.embedding}, {"output", counts.output},
                               {"final_norm", counts.final_norm}};
  j["model_flops_per_token"] = model_flops_per_token(m, m.seq_len);
  j["tokens_per_step"] = double(p.global_batch) * double(m.seq_len);
  j["plan"] = {{"tp", p.tp}, {"cp", p.cp}, {"pp", p.pp}, {"dp", p.dp}, {"virtual_stages", p.virtual_stages},
               {"dp_sharding", to_string(p.dp_sharding)}, {"grad_sync", to_string(p.grad_sync)},
               {"micro_batch", p.micro_batch}, {"microbatches", p.microbatches()}, {"global_batch", p.global_batch},
               {"recompute", to_string(p.recompute)}, {"schedule", to_string(p.schedule)},
               {"sequence_parallel", p.sequence_parallel}, {"tp_comm_overlap", p.tp_comm_overlap},
               {"pp_send", p.pp_blocking_send ? "blocking" : "async"}};
  json stages = json::array();
  for (const auto& st : mem.stages) {
    stages.push_back({{"stage", st.stage}, {"layers", st.layers}, {"embedding", st.embedding}, {"output", st.output},
                      {"parameters", st.parameters}, {"weights", st.weights}, {"gradients", st.gradients},
                      {"optimizer", st.optimizer}, {"activations", st.activations},
                      {"inflight_microbatches", st.inflight_microbatches}, {"communication", st.communication},
                      {"transient", st.transient}, {"runtime", st.runtime}, {"total", st.total()}});
  }
  j["memory"] = {{"capacity_bytes", mem.capacity_bytes}, {"largest_stage", mem.largest_stage},
                 {"per_layer_activation_bytes", mem.per_layer_activation_bytes}, {"stages", stages},
                 {"fits", mem.fits}};
  j["fits"] = mem.fits;
  return j;
}

}  // namespace herd::cli
