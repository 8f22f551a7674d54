#include "herd/sim/step/trace_export.hpp"

#include <nlohmann/json.hpp>

namespace herd::sim {

std::string_view to_string(CommGroup g) {
  switch (g) {
    case CommGroup::tp: return "tp";
    case CommGroup::cp: return "cp";
    case CommGroup::pp: return "pp";
    case CommGroup::dp: return "dp";
    case CommGroup::dp_cp: return "dp_cp";
  }
  return "";
}

namespace {

int thread_of(model::Stream s) { return static_cast<int>(s); }

nlohmann::json args_of(const TraceSpan& span) {
  nlohmann::json a;
  const model::Op& op = *span.op;
  a["kind"] = model::to_string(op.kind);
  a["pass"] = model::to_string(op.pass);
  if (span.microbatch >= 0) a["microbatch"] = span.microbatch;
  if (span.chunk >= 0) a["chunk"] = span.chunk;
  if (op.kind == model::OpKind::gemm) a["shape"] = {{"m", op.gemm.m}, {"n", op.gemm.n}, {"k", op.gemm.k}};
  if (op.kind == model::OpKind::attention)
    a["shape"] = {{"batch", op.attention.batch}, {"heads_q", op.attention.heads_q}, {"heads_kv", op.attention.heads_kv},
                  {"seq_q", op.attention.seq_q}, {"seq_kv", op.attention.seq_kv}, {"head_dim", op.attention.head_dim}};
  if (op.flops > 0) a["flops"] = op.flops;
  if (op.bytes > 0) a["hbm_bytes"] = op.bytes;
  if (span.stream != model::Stream::compute) {
    a["bytes"] = span.bytes;
    a["group"] = to_string(span.group);
    a["collective"] = model::to_string(op.collective);
  }
  return a;
}

}  // namespace

std::string chrome_trace_json(const StepReport& report) {
  nlohmann::json events = nlohmann::json::array();
  const int ranks = report.simulated_ranks;
  for (int r = 0; r < ranks; ++r) {
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", r},
                      {"args", {{"name", (report.simulated_ranks == static_cast<int>(report.stage_finish_s.size())
                                              ? "stage " : "rank ") + std::to_string(r)}}}});
    for (auto s : {model::Stream::compute, model::Stream::tp_comm, model::Stream::cp_comm, model::Stream::pp_comm,
                   model::Stream::dp_comm})
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", r}, {"tid", thread_of(s)},
                        {"args", {{"name", model::to_string(s)}}}});
  }
  for (const auto& span : report.trace) {
    events.push_back({{"name", span.op->name}, {"cat", model::to_string(span.op->kind)}, {"ph", "X"},
                      {"ts", span.start_s * 1e6}, {"dur", (span.end_s - span.start_s) * 1e6}, {"pid", span.rank},
                      {"tid", thread_of(span.stream)}, {"args", args_of(span)}});
  }
  nlohmann::json doc{{"traceEvents", events}, {"displayTimeUnit", "ms"},
                     {"otherData", {{"scenario", report.scenario}, {"step_time_s", report.step_time_s}}}};
  return doc.dump();
}

nlohmann::json step_report_json(const StepReport& r) {
  const auto& b = r.breakdown;
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["step_time_s"] = r.step_time_s;
  j["tokens_per_step"] = r.tokens_per_step;
  j["tokens_per_s"] = r.tokens_per_s;
  j["tflops_per_gpu"] = r.tflops_per_gpu;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["model_flops_per_step"] = r.model_flops_per_step;
  j["hardware_flops_per_step"] = r.hardware_flops_per_step;
  j["breakdown"] = {{"compute_s", b.compute_s},         {"optimizer_s", b.optimizer_s},
                    {"exposed_tp_s", b.exposed_tp_s},   {"exposed_cp_s", b.exposed_cp_s},
                    {"exposed_pp_s", b.exposed_pp_s},   {"exposed_dp_s", b.exposed_dp_s},
                    {"pipeline_bubble_s", b.bubble_s}, {"other_s", b.other_s}};
  j["critical_stage"] = r.critical_stage;
  j["critical_rank"] = r.critical_rank;
  j["bottleneck"] = r.bottleneck;
  j["stage_finish_s"] = r.stage_finish_s;
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& st : r.memory.stages)
    stages.push_back({{"stage", st.stage}, {"weights", st.weights}, {"gradients", st.gradients},
                      {"optimizer", st.optimizer}, {"activations", st.activations},
                      {"communication", st.communication}, {"transient", st.transient}, {"runtime", st.runtime},
                      {"total", st.total()}});
  j["memory"] = {{"capacity_bytes", r.memory.capacity_bytes}, {"largest_stage", r.memory.largest_stage},
                 {"stages", stages}};
  j["fits"] = r.fits;
  j["simulated_ranks"] = r.simulated_ranks;
  j["events"] = r.events;
  return j;
}

}  // namespace herd::sim
