#include "herd/sim/power/run_power.hpp"

#include <algorithm>
#include <cmath>

#include "herd/model/error.hpp"

namespace herd::sim {

double RunPowerLevels::level_w(run::SpanKind kind, int phase) const {
  switch (kind) {
    case run::SpanKind::train: {
      if (train_mean_w.empty()) return stalled_w;
      const auto i = static_cast<std::size_t>(std::clamp(phase, 0, static_cast<int>(train_mean_w.size()) - 1));
      return train_mean_w[i];
    }
    case run::SpanKind::checkpoint:
    case run::SpanKind::detection: return stalled_w;
    case run::SpanKind::spare_wait:
    case run::SpanKind::restart:
    case run::SpanKind::checkpoint_load:
    case run::SpanKind::planned: return down_w;
  }
  return down_w;
}

RunPowerLevels run_power_levels(const std::vector<StepPower>& phases, const PowerSetup& setup, double price_per_mwh) {
  if (phases.empty()) throw model::ValueError("", "a run's power needs the power of at least one step");
  RunPowerLevels l;
  for (const StepPower& p : phases) {
    l.train_mean_w.push_back(p.mean_w);
    l.train_peak_w.push_back(p.peak_w);
    l.train_min_w.push_back(p.min_w);
    l.train_gpu_w.push_back(p.gpu_energy_j / p.step_time_s);
  }
  l.stalled_w = setup.cluster_w(PowerState::wait);
  l.stalled_gpu_w = setup.gpus * setup.gpu_draw(PowerState::wait, false);
  l.down_w = setup.idle_cluster_w();
  l.down_gpu_w = setup.gpus * setup.draws.idle;
  l.pue = setup.pue;
  l.price_per_mwh = price_per_mwh;
  return l;
}

RunEnergy run_energy(const run::RunReport& report, const RunPowerLevels& levels) {
  RunEnergy e;
  const auto& lost = report.lost;
  const double stalled_s = lost.checkpoint_stalls + lost.detection;
  const double down_s = lost.spare_wait + lost.restart + lost.checkpoint_load + lost.planned;
  const double train_s = std::max(0.0, report.elapsed_s.mean - stalled_s - down_s);
  // Training time splits over the phases as their failure-free times do.
  std::vector<double> share(levels.train_mean_w.size(), 0.0);
  double ideal = 0;
  for (std::size_t i = 0; i < report.phases.size() && i < share.size(); ++i) {
    const auto& ph = report.phases[i];
    const double end = std::min(ph.end_tokens, report.token_budget > 0 ? report.token_budget : ph.end_tokens);
    const double tokens = std::isfinite(end) ? std::max(0.0, end - ph.start_tokens) : 0;
    share[i] = ph.step_time_s > 0 ? tokens / ph.tokens_per_s() : 0;
    ideal += share[i];
  }
  if (ideal > 0) {
    for (double& s : share) s /= ideal;
  } else {
    share.assign(share.size(), 0.0);  // a window without a budget: the first phase
    share.front() = 1;
  }
  double train_gpu_w = 0;
  for (std::size_t i = 0; i < share.size(); ++i) {
    e.train_j += share[i] * train_s * levels.train_mean_w[i];
    train_gpu_w += share[i] * levels.train_gpu_w[i];
    e.checkpoint_drop_w = std::max(e.checkpoint_drop_w, levels.train_peak_w[i] - levels.stalled_w);
    e.restart_drop_w = std::max(e.restart_drop_w, levels.train_peak_w[i] - levels.down_w);
    e.step_swing_w = std::max(e.step_swing_w, levels.train_peak_w[i] - levels.train_min_w[i]);
  }
  e.stalled_j = stalled_s * levels.stalled_w;
  e.down_j = down_s * levels.down_w;
  e.it_energy_j = e.train_j + e.stalled_j + e.down_j;
  e.gpu_energy_j = train_s * train_gpu_w + stalled_s * levels.stalled_gpu_w + down_s * levels.down_gpu_w;
  e.facility_energy_j = e.it_energy_j * levels.pue;
  e.cost = e.facility_energy_j / 3.6e9 * levels.price_per_mwh;
  const double elapsed = report.elapsed_s.mean;
  e.mean_it_w = elapsed > 0 ? e.it_energy_j / elapsed : 0;
  e.mean_gpu_w = report.gpu_hours > 0 ? e.gpu_energy_j / (report.gpu_hours * 3600) : 0;
  return e;
}

std::vector<PowerPoint> run_power_series(const run::RunTimeline& timeline, const RunPowerLevels& levels) {
  std::vector<PowerPoint> out;
  out.reserve(timeline.spans.size() + 1);
  double t = 0;
  for (const auto& span : timeline.spans) {
    // A gap between spans (none expected) counts as training at the first phase's level.
    if (span.start_s > t && !levels.train_mean_w.empty()) out.push_back({t, levels.train_mean_w.front()});
    const double w = levels.level_w(span.kind, span.phase);
    if (out.empty() || out.back().w != w) out.push_back({span.start_s, w});
    t = span.end_s;
  }
  if (!out.empty()) out.push_back({t, out.back().w});
  return out;
}

nlohmann::json run_energy_json(const RunEnergy& e, const RunPowerLevels& l) {
  return {{"it_energy_j", e.it_energy_j},
          {"facility_energy_j", e.facility_energy_j},
          {"gpu_energy_j", e.gpu_energy_j},
          {"cost", e.cost},
          {"price_per_mwh", l.price_per_mwh},
          {"pue", l.pue},
          {"by_part_j", {{"train", e.train_j}, {"stalled", e.stalled_j}, {"down", e.down_j}}},
          {"mean_it_w", e.mean_it_w},
          {"mean_gpu_w", e.mean_gpu_w},
          {"levels_w",
           {{"train_mean", l.train_mean_w}, {"train_peak", l.train_peak_w}, {"train_min", l.train_min_w},
            {"stalled", l.stalled_w}, {"down", l.down_w}}},
          {"checkpoint_drop_w", e.checkpoint_drop_w},
          {"restart_drop_w", e.restart_drop_w},
          {"step_swing_w", e.step_swing_w}};
}

std::pair<RunEnergy, RunPowerLevels> run_energy_from_json(const nlohmann::json& j) {
  RunEnergy e;
  RunPowerLevels l;
  e.it_energy_j = j.at("it_energy_j").get<double>();
  e.facility_energy_j = j.at("facility_energy_j").get<double>();
  e.gpu_energy_j = j.at("gpu_energy_j").get<double>();
  e.cost = j.at("cost").get<double>();
  l.price_per_mwh = j.at("price_per_mwh").get<double>();
  l.pue = j.at("pue").get<double>();
  const auto& part = j.at("by_part_j");
  e.train_j = part.at("train").get<double>();
  e.stalled_j = part.at("stalled").get<double>();
  e.down_j = part.at("down").get<double>();
  e.mean_it_w = j.at("mean_it_w").get<double>();
  e.mean_gpu_w = j.at("mean_gpu_w").get<double>();
  const auto& levels = j.at("levels_w");
  l.train_mean_w = levels.at("train_mean").get<std::vector<double>>();
  l.train_peak_w = levels.at("train_peak").get<std::vector<double>>();
  l.train_min_w = levels.at("train_min").get<std::vector<double>>();
  l.stalled_w = levels.at("stalled").get<double>();
  l.down_w = levels.at("down").get<double>();
  e.checkpoint_drop_w = j.at("checkpoint_drop_w").get<double>();
  e.restart_drop_w = j.at("restart_drop_w").get<double>();
  e.step_swing_w = j.at("step_swing_w").get<double>();
  return {e, l};
}

std::string timeline_chrome_json_with_power(const run::RunTimeline& timeline, const std::string& title,
                                            const RunPowerLevels& levels) {
  nlohmann::json doc = nlohmann::json::parse(run::timeline_chrome_json(timeline, title));
  auto& events = doc["traceEvents"];
  for (const PowerPoint& p : run_power_series(timeline, levels))
    events.push_back({{"ph", "C"}, {"pid", 1}, {"name", "cluster power (IT)"}, {"ts", p.t_s * 1e6}, {"args", {{"MW", p.w / 1e6}}}});
  return doc.dump() + "\n";
}

}  // namespace herd::sim
