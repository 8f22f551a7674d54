#include "step_report.hpp"

#include <algorithm>
#include <cstdio>

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

}  // namespace

StepReport assemble_report(const model::Scenario& s, const StepPlan& plan, const std::vector<RankState>& ranks,
                           std::vector<TraceSpan> trace, std::uint64_t events, bool per_rank) {
  StepReport rep;
  rep.scenario = s.name;
  const RankState* critical = &ranks.front();
  for (const auto& r : ranks)
    if (r.finish > critical->finish) critical = &r;
  rep.step_time_s = engine::to_seconds(critical->finish);
  rep.critical_rank = per_rank ? critical->global : critical->stage;
  rep.critical_stage = critical->stage;
  rep.breakdown = critical->spent;
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
  rep.simulated_ranks = static_cast<int>(ranks.size());
  rep.events = events;
  rep.trace = std::move(trace);
  return rep;
}

}  // namespace herd::sim::detail
