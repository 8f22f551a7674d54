#include "herd/sim/step/trace_export.hpp"

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

std::string chrome_trace_json(const StepReport& report) {
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
  nlohmann::json doc{{"traceEvents", events}, {"displayTimeUnit", "ms"},
                     {"otherData", {{"scenario", report.scenario}, {"step_time_s", report.step_time_s}}}};
  return doc.dump();
}

}  // namespace herd::sim
