#include "assemble_report.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>


namespace herd::sim::detail {

namespace {

std::string name_bottleneck(const StepBreakdown& b, double step) {
  const std::pair<double, const char*> parts[] = {
      {b.bubble_s, "pipeline bubble"},         {b.exposed_dp_s, "exposed data-parallel communication"},
      {b.exposed_tp_s, "exposed tensor-parallel communication"}, {b.exposed_cp_s, "exposed context-parallel communication"},
      {b.exposed_pp_s, "exposed pipeline transfers"}, {b.optimizer_s, "optimizer step"}};
  const auto* worst = std::max_element(std::begin(parts), std::end(parts),
                                       [](const auto& a, const auto& c) { return a.first < c.first; });
  char text[160];
  if (worst->first < 0.05 * step) {
    std::snprintf(text, sizeof text, "compute (%.0f%% of the step); largest other part: %s, %.1f%%",
                  100 * b.compute_s / step, worst->second, 100 * worst->first / step);
  } else {
    std::snprintf(text, sizeof text, "%s, %.1f%% of the step", worst->second, 100 * worst->first / step);
  }
  return text;
}

// Spans as plain values: each distinct op once in `ops`, spans pointing at it by index.
void convert(std::vector<RecordedSpan> recorded, StepReport& rep) {
  std::unordered_map<const model::Op*, int> index;
  rep.trace.reserve(recorded.size());
  for (const RecordedSpan& r : recorded) {
    const auto [it, added] = index.emplace(r.op, static_cast<int>(rep.trace_ops.size()));
    if (added) rep.trace_ops.push_back(describe(*r.op));
    rep.trace.push_back(TraceSpan{r.rank, r.stream, it->second, engine::to_seconds(r.start), engine::to_seconds(r.end), r.bytes, r.group, r.microbatch,
                                  r.chunk, r.backward, r.layer});
  }
}

}  // namespace

TraceOp describe(const model::Op& op) {
  return {op.name, op.kind, op.pass, op.collective, op.gemm, op.attention, op.flops, op.bytes};
}

StepReport assemble_report(const model::Scenario& s, const StepPlan& plan, const std::vector<RankState>& ranks,
                           std::vector<RecordedSpan> spans, std::uint64_t events, bool per_rank) {
  StepReport rep;
  rep.scenario = s.name;
  const RankState* critical = &ranks.front();
  for (const auto& r : ranks)
    if (r.finish > critical->finish) critical = &r;
  rep.step_time_s = engine::to_seconds(critical->finish);
  rep.critical_rank = per_rank ? critical->global : critical->stage;
  rep.critical_stage = critical->stage;
  rep.breakdown = breakdown_of(critical->spent);
  check_breakdown(rep.breakdown, rep.step_time_s, (per_rank ? "rank " : "stage ") + std::to_string(rep.critical_rank));
  rep.breakdown.other_s = std::max(0.0, rep.step_time_s - rep.breakdown.total());
  rep.stage_finish_s.assign(static_cast<std::size_t>(s.plan.pp), 0.0);
  for (const auto& r : ranks) {
    auto& f = rep.stage_finish_s[static_cast<std::size_t>(r.stage)];
    f = std::max(f, engine::to_seconds(r.finish));
  }
  const double gpus = s.plan.gpus();
  rep.tokens_per_step = plan.tokens_per_step;
  rep.model_flops_per_step = plan.model_flops_per_step;
  rep.hardware_flops_per_step = plan.hardware_flops_per_step;
  rep.tokens_per_s = plan.tokens_per_step / rep.step_time_s;
  rep.tflops_per_gpu = plan.model_flops_per_step / rep.step_time_s / gpus / 1e12;
  const double peak = s.cluster.gpu.peak_bf16_flops;
  rep.mfu = plan.model_flops_per_step / (rep.step_time_s * gpus * peak);
  rep.hfu = plan.hardware_flops_per_step / (rep.step_time_s * gpus * peak);
  rep.bottleneck = name_bottleneck(rep.breakdown, rep.step_time_s);
  rep.memory = model::analyse_memory(s);
  rep.fits = rep.memory.fits;
  rep.per_rank = per_rank;
  rep.simulated_ranks = static_cast<int>(ranks.size());
  rep.events = events;
  convert(std::move(spans), rep);
  return rep;
}

}  // namespace herd::sim::detail
