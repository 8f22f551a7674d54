#include "herd/app/model_report_use_case.hpp"

#include "herd/app/scenario_loading.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/workload.hpp"

namespace herd::app {

ModelReport model_report(const ModelReportRequest& request, const sim::Control& control) {
  sim::check_stop(control);
  const model::Scenario& s = request.scenario;
  ModelReport r;
  r.scenario_name = s.name;
  r.scenario_source = scenario_origin(s);
  r.model = s.model;
  r.plan = s.plan;
  r.parameters = model::count_parameters(s.model);
  r.model_flops_per_token = model::model_flops_per_token(s.model, s.model.seq_len);
  r.tokens_per_step = double(s.plan.global_batch) * double(s.model.seq_len);
  r.memory = model::analyse_memory(s);
  if (const auto profile = calibration_profile(s, request.calibration_file))
    r.calibration = CalibrationInfo{profile->source, profile->gpu_name, profile->backend,
                                    model::profile_mismatch(*profile, s.cluster.gpu)};
  return r;
}

nlohmann::json to_json(const ModelReport& r) {
  using nlohmann::json;
  using model::to_string;
  const auto& m = r.model;
  const auto& p = r.plan;
  const auto& counts = r.parameters;
  const auto& mem = r.memory;
  json j;
  j["scenario"] = {{"name", r.scenario_name}, {"source", r.scenario_source}};
  j["model"] = {{"name", m.name}, {"layers", m.layers}, {"hidden", m.hidden}, {"ffn_hidden", m.ffn_hidden},
                {"heads", m.heads}, {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim}, {"vocab", m.vocab},
                {"seq_len", m.seq_len}};
  j["parameters"] = counts.total;
  j["parameters_breakdown"] = {{"per_layer", counts.per_layer}, {"attention_per_layer", counts.attention},
                               {"mlp_per_layer", counts.mlp}, {"norms_per_layer", counts.layer_norms},
                               {"embedding", counts.embedding}, {"output", counts.output},
                               {"final_norm", counts.final_norm}};
  j["model_flops_per_token"] = r.model_flops_per_token;
  j["tokens_per_step"] = r.tokens_per_step;
  j["plan"] = {{"tp", p.tp}, {"cp", p.cp}, {"pp", p.pp}, {"dp", p.dp}, {"virtual_stages", p.virtual_stages},
               {"dp_sharding", to_string(p.dp_sharding)}, {"grad_sync", to_string(p.grad_sync)},
               {"micro_batch", p.micro_batch}, {"microbatches", p.microbatches()}, {"global_batch", p.global_batch},
               {"recompute", to_string(p.recompute)}, {"schedule", to_string(p.schedule)},
               {"sequence_parallel", p.sequence_parallel}, {"tp_comm_overlap", p.tp_comm_overlap},
               {"pp_send", p.pp_blocking_send ? "blocking" : "async"},
               {"overlap_grad_reduce", p.overlap_grad_reduce}, {"overlap_param_gather", p.overlap_param_gather},
               {"stack", to_string(p.stack)}, {"attention_kernel", to_string(p.attention_kernel)}};
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
  if (const auto& c = r.calibration)
    j["calibration"] = {{"file", c->file}, {"device", c->device}, {"backend", c->backend}, {"warning", c->warning}};
  return j;
}

std::string to_csv(const ModelReport& r) {
  using model::csv_number;
  model::CsvTable table({"stage", "layers", "embedding", "output", "parameters", "weights_bytes", "gradients_bytes",
                         "optimizer_bytes", "activations_bytes", "inflight_microbatches", "communication_bytes",
                         "transient_bytes", "runtime_bytes", "total_bytes", "capacity_bytes"});
  for (const auto& st : r.memory.stages)
    table.add_row({std::to_string(st.stage), std::to_string(st.layers), st.embedding ? "1" : "0", st.output ? "1" : "0",
                   csv_number(st.parameters), csv_number(st.weights), csv_number(st.gradients),
                   csv_number(st.optimizer), csv_number(st.activations), csv_number(st.inflight_microbatches),
                   csv_number(st.communication), csv_number(st.transient), csv_number(st.runtime),
                   csv_number(st.total()), csv_number(r.memory.capacity_bytes)});
  return table.text();
}

}  // namespace herd::app
