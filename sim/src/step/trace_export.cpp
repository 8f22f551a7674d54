#include "herd/sim/step/trace_export.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace herd::sim {

namespace {

nlohmann::json args_of(const TraceSpan& span, const TraceOp& op) {
  nlohmann::json a;
  a["kind"] = model::to_string(op.kind);
  a["pass"] = model::to_string(op.pass);
  if (span.microbatch >= 0) a["microbatch"] = span.microbatch;
  if (span.chunk >= 0) a["chunk"] = span.chunk;
  if (span.layer >= 0) a["layer"] = span.layer;
  if (op.kind == model::OpKind::gemm) a["shape"] = {{"m", op.gemm.m}, {"n", op.gemm.n}, {"k", op.gemm.k}};
  if (op.kind == model::OpKind::attention)
    a["shape"] = {{"batch", op.attention.batch}, {"heads_q", op.attention.heads_q}, {"heads_kv", op.attention.heads_kv},
                  {"seq_q", op.attention.seq_q}, {"seq_kv", op.attention.seq_kv}, {"head_dim", op.attention.head_dim}};
  if (op.flops > 0) a["flops"] = op.flops;
  if (op.hbm_bytes > 0) a["hbm_bytes"] = op.hbm_bytes;
  if (span.stream != model::Stream::compute) {
    a["bytes"] = span.bytes;
    a["group"] = to_string(span.group);
    a["collective"] = model::to_string(op.collective);
  }
  return a;
}

}  // namespace

std::string chrome_trace_json(const StepReport& report, const StepPower* power) {
  nlohmann::json events = nlohmann::json::array();
  const int ranks = report.simulated_ranks;
  for (int r = 0; r < ranks; ++r) {
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", r},
                      {"args", {{"name", (report.per_rank ? "rank " : "stage ") + std::to_string(r)}}}});
    for (auto s : {model::Stream::compute, model::Stream::tp_comm, model::Stream::cp_comm, model::Stream::pp_comm,
                   model::Stream::dp_comm})
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", r}, {"tid", model::index_of(s)},
                        {"args", {{"name", model::to_string(s)}}}});
  }
  for (const auto& span : report.trace) {
    const TraceOp& op = report.trace_ops[static_cast<std::size_t>(span.op)];
    events.push_back({{"name", op.name}, {"cat", model::to_string(op.kind)}, {"ph", "X"},
                      {"ts", span.start_s * 1e6}, {"dur", (span.end_s - span.start_s) * 1e6}, {"pid", span.rank},
                      {"tid", model::index_of(span.stream)}, {"args", args_of(span, op)}});
  }
  if (power) {
    const int pid = ranks;
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"args", {{"name", "power"}}}});
    const auto& cw = power->cluster_w;
    for (std::size_t i = 0; i <= cw.size(); ++i) {
      // A last sample at the step's end closes the final bin.
      const double w = cw[std::min(i, cw.size() - 1)];
      const double ts = std::min(double(i) * power->bin_s, power->step_time_s) * 1e6;
      events.push_back({{"name", "cluster power (IT)"}, {"ph", "C"}, {"pid", pid}, {"ts", ts}, {"args", {{"MW", w / 1e6}}}});
      for (std::size_t r = 0; r < power->rank_w.size(); ++r)
        events.push_back({{"name", (report.per_rank ? "rank " : "stage ") + std::to_string(r) + " GPU power"},
                          {"ph", "C"}, {"pid", pid}, {"ts", ts}, {"args", {{"W", power->rank_w[r][std::min(i, cw.size() - 1)]}}}});
    }
  }
  nlohmann::json doc{{"traceEvents", events}, {"displayTimeUnit", "ms"},
                     {"otherData", {{"scenario", report.scenario}, {"step_time_s", report.step_time_s}}}};
  return doc.dump();
}

}  // namespace herd::sim
