#include "herd/sim/run/report_json.hpp"

#include <cmath>

namespace herd::sim::run {

namespace {

using nlohmann::json;

// JSON has no infinity: a quantity that does not exist (no failures: no MTBF) is null.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json stats(const Distribution4& d, double scale = 1.0) {
  return {{"mean", number(d.mean * scale)}, {"p10", number(d.p10 * scale)}, {"p50", number(d.p50 * scale)},
          {"p90", number(d.p90 * scale)}};
}

json counts(const std::vector<CategoryCount>& list) {
  json o = json::object();
  for (const auto& c : list) o[c.name] = c.mean;
  return o;
}

}  // namespace

json run_report_json(const RunReport& r) {
  json phases = json::array();
  for (const auto& p : r.phases)
    phases.push_back({{"start_tokens", p.start_tokens}, {"end_tokens", number(p.end_tokens)}, {"seq_len", p.seq_len},
                      {"global_batch", p.global_batch}, {"tokens_per_step", p.tokens_per_step()},
                      {"step_time_s", p.step_time_s}, {"gpus", p.gpus}});
  constexpr double kDay = 86400.0, kHour = 3600.0;
  const TimeLost& l = r.lost;
  return {
      {"scenario", r.name},
      {"step_time_source", r.step_time_source},
      {"phases", phases},
      {"trials", r.trials},
      {"seed", r.seed},
      {"token_budget", r.token_budget},
      {"window_days", r.window_s / kDay},
      {"ideal_days", r.ideal_s / kDay},
      {"time_to_train_days", stats(r.elapsed_s, 1.0 / kDay)},
      {"effective_training_time", stats(r.effective_training_time)},
      {"tokens_trained", stats(r.tokens)},
      {"interruptions",
       {{"planned", r.planned},
        {"unexpected", r.unexpected},
        {"unexpected_stderr", r.unexpected_stderr},
        {"during_recovery", r.during_recovery},
        {"by_category", counts(r.by_category)},
        {"by_class", counts(r.by_class)}}},
      {"time_lost_hours",
       {{"lost_work", l.lost_work / kHour},
        {"checkpoint_stalls", l.checkpoint_stalls / kHour},
        {"detection", l.detection / kHour},
        {"spare_wait", l.spare_wait / kHour},
        {"restart", l.restart / kHour},
        {"checkpoint_load", l.checkpoint_load / kHour},
        {"planned", l.planned / kHour},
        {"degraded", l.degraded / kHour},
        {"total", l.total() / kHour}}},
      {"gpu_hours", r.gpu_hours},
      {"gpus", r.allocated_gpus},
      {"checkpoint",
       {{"mode", r.checkpoint_mode == model::CheckpointMode::async ? "async" : "sync"},
        {"size_bytes", r.checkpoint.total_bytes},
        {"per_gpu_bytes", r.checkpoint.per_gpu_bytes},
        {"write_s", r.checkpoint.write_s},
        {"stall_s", r.checkpoint.stall_s},
        {"load_s", r.checkpoint.load_s},
        {"durable_checkpoints", r.checkpoints}}},
      {"checkpoint_interval_s", r.checkpoint_interval_s},
      {"checkpoint_interval_given", r.interval_given},
      {"optimal_checkpoint_interval_s", number(r.optimal_interval_s)},
      {"young_interval_s", number(r.young_interval_s)},
      {"daly_interval_s", number(r.daly_interval_s)},
      {"mtbf_hours", number(r.mtbf_s / kHour)},
      {"recovery_s", r.recovery_s},
      {"fewest_dp_replicas", r.fewest_replicas},
      {"unfinished_trials", r.unfinished_trials},
  };
}

}  // namespace herd::sim::run
