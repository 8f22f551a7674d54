// Monte Carlo over trials (oneTBB), the simulated optimal checkpoint interval, and the report.
#include "herd/sim/run/run_simulation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace herd::sim::run {

Distribution4 summarize(std::vector<double> v) {
  Distribution4 d;
  if (v.empty()) return d;
  double sum = 0;
  for (double x : v) sum += x;
  d.mean = sum / double(v.size());
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    const double h = p * double(v.size() - 1);
    const auto lo = static_cast<std::size_t>(h);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (h - double(lo)) * (v[hi] - v[lo]);
  };
  d.p10 = at(0.1);
  d.p50 = at(0.5);
  d.p90 = at(0.9);
  return d;
}

RunSimulation::RunSimulation(const model::Scenario& scenario, StepTimeSource step_time)
    : model_(build_run_model(scenario, step_time.step_time)), step_time_source_(std::move(step_time.name)) {}

RunSimulation::RunSimulation(RunModel model, std::string step_time_source)
    : model_(std::move(model)), step_time_source_(std::move(step_time_source)) {}

std::vector<TrialResult> RunSimulation::trials(std::uint64_t seed, int n, double interval_s) const {
  if (!(interval_s > 0)) throw std::invalid_argument("checkpoint interval must be positive");
  std::vector<TrialResult> results(static_cast<std::size_t>(std::max(0, n)));
  // Each trial writes only its own slot and draws only from its own streams: the same results
  // whatever the partitioning.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, results.size()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) results[i] = simulate_trial(model_, seed, i, interval_s);
  });
  return results;
}

double RunSimulation::overhead(std::uint64_t seed, int n, double interval_s) const {
  double elapsed = 0, ideal = 0;
  for (const auto& t : trials(seed, n, interval_s)) elapsed += t.elapsed_s, ideal += t.ideal_s;
  return ideal > 0 ? elapsed / ideal : std::numeric_limits<double>::infinity();
}

double RunSimulation::optimal_interval(std::uint64_t seed, int n, const Control& control) const {
  const double mtbf = model_.mtbf_s();
  const double run_length = model_.token_budget > 0 ? model_.ideal_time(model_.token_budget) : model_.window_s;
  if (!std::isfinite(mtbf)) return run_length;  // nothing fails: one checkpoint at the end would do
  // Bracket the optimum generously around Daly's estimate, then golden-section search in log space.
  const double guess = daly_interval(std::max(model_.checkpoint.stall_s, 1e-3), mtbf);
  double lo = std::log(std::max({guess / 30.0, model_.checkpoint.durable_lag_s, 1.0}));
  double hi = std::log(std::max(std::exp(lo) * 2.0, std::min(guess * 30.0, std::max(run_length, 2.0))));
  constexpr double kInvPhi = 0.6180339887498949;
  constexpr int kIterations = 16;  // bracket shrinks by 0.618^16 ~ 4.6e-4 of its log width
  auto cost = [&](double x) { return overhead(seed, n, std::exp(x)); };
  double a = hi - kInvPhi * (hi - lo), b = lo + kInvPhi * (hi - lo);
  double fa = cost(a), fb = cost(b);
  for (int i = 0; i < kIterations; ++i) {
    check_stop(control);
    if (control.progress) control.progress("optimal checkpoint interval", i + 1, kIterations);
    if (fa <= fb) {
      hi = b, b = a, fb = fa;
      a = hi - kInvPhi * (hi - lo);
      fa = cost(a);
    } else {
      lo = a, a = b, fa = fb;
      b = lo + kInvPhi * (hi - lo);
      fb = cost(b);
    }
  }
  return std::exp(fa <= fb ? a : b);
}

RunTimeline RunSimulation::timeline(std::uint64_t seed, std::uint64_t trial, double interval_s) const {
  RunTimeline t;
  simulate_trial(model_, seed, trial, interval_s, &t);
  return t;
}

namespace {

void add_count(std::vector<CategoryCount>& counts, const std::string& name, double value) {
  for (auto& c : counts)
    if (c.name == name) {
      c.mean += value;
      return;
    }
  counts.push_back({name, value});
}

}  // namespace

RunReport RunSimulation::run(int n, std::uint64_t seed, const Control& control) const {
  RunReport rep;
  const RunModel& m = model_;
  rep.name = m.name;
  rep.step_time_source = step_time_source_;
  rep.phases = m.phases;
  rep.trials = n;
  rep.seed = seed;
  rep.token_budget = m.token_budget;
  rep.window_s = m.window_s;
  rep.ideal_s = m.token_budget > 0 ? m.ideal_time(m.token_budget) : 0.0;
  rep.allocated_gpus = m.allocated_gpus;
  rep.checkpoint_mode = m.checkpoint_mode;
  rep.checkpoint = m.checkpoint;
  rep.mtbf_s = m.mtbf_s();
  rep.young_interval_s = young_interval(m.checkpoint.stall_s, rep.mtbf_s);
  rep.daly_interval_s = daly_interval(m.checkpoint.stall_s, rep.mtbf_s);
  rep.recovery_s = m.recovery_s(m.detection_s);
  rep.optimal_interval_s = optimal_interval(seed, n, control);
  rep.interval_given = m.interval_s > 0;
  rep.checkpoint_interval_s = effective_interval(m, rep.interval_given ? m.interval_s : rep.optimal_interval_s);

  // The main trials, in batches so long runs can report progress.
  std::vector<TrialResult> all;
  const int batch = std::max(1, n / 10);
  for (int done = 0; done < n; done += batch) {
    check_stop(control);
    const int count = std::min(batch, n - done);
    std::vector<TrialResult> part(static_cast<std::size_t>(count));
    tbb::parallel_for(0, count, [&](int i) {
      part[static_cast<std::size_t>(i)] = simulate_trial(m, seed, std::uint64_t(done + i), rep.checkpoint_interval_s);
    });
    for (auto& t : part) all.push_back(std::move(t));
    if (control.progress) control.progress("trials", done + count, n);
  }

  std::vector<double> elapsed, ett, tokens, unexpected;
  for (const auto& t : all) {
    elapsed.push_back(t.elapsed_s);
    ett.push_back(t.elapsed_s > 0 ? t.ideal_s / t.elapsed_s : 0.0);
    tokens.push_back(t.tokens);
    unexpected.push_back(t.unexpected);
    rep.planned += t.planned;
    rep.during_recovery += t.during_recovery;
    rep.checkpoints += t.checkpoints;
    rep.fewest_replicas += t.fewest_replicas;
    if (!t.finished) ++rep.unfinished_trials;
    for (std::size_t c = 0; c < m.failures.size(); ++c) {
      add_count(rep.by_category, m.failures[c].category, t.by_class[c]);
      add_count(rep.by_class, m.failures[c].name, t.by_class[c]);
    }
    const TimeLost& l = t.lost;
    rep.lost.lost_work += l.lost_work, rep.lost.checkpoint_stalls += l.checkpoint_stalls;
    rep.lost.detection += l.detection, rep.lost.spare_wait += l.spare_wait, rep.lost.restart += l.restart;
    rep.lost.checkpoint_load += l.checkpoint_load, rep.lost.planned += l.planned, rep.lost.degraded += l.degraded;
  }
  const double count = std::max<double>(1, double(all.size()));
  rep.elapsed_s = summarize(elapsed);
  rep.effective_training_time = summarize(ett);
  rep.tokens = summarize(tokens);
  rep.unexpected = summarize(unexpected).mean;
  double var = 0;
  for (double u : unexpected) var += (u - rep.unexpected) * (u - rep.unexpected);
  rep.unexpected_stderr = all.size() > 1 ? std::sqrt(var / (count - 1) / count) : 0.0;
  rep.planned /= count, rep.during_recovery /= count, rep.checkpoints /= count, rep.fewest_replicas /= count;
  for (auto* list : {&rep.by_category, &rep.by_class})
    for (auto& c : *list) c.mean /= count;
  for (double TimeLost::*f : {&TimeLost::lost_work, &TimeLost::checkpoint_stalls, &TimeLost::detection,
                               &TimeLost::spare_wait, &TimeLost::restart, &TimeLost::checkpoint_load,
                               &TimeLost::planned, &TimeLost::degraded})
    rep.lost.*f /= count;
  rep.gpu_hours = rep.elapsed_s.mean * m.allocated_gpus / 3600.0;
  return rep;
}

}  // namespace herd::sim::run
