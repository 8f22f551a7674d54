// From a scenario to the plain data a trial runs on; the token/time bookkeeping across phases.
#include "herd/sim/run/run_model.hpp"

#include <algorithm>
#include <cmath>

#include "herd/model/units.hpp"
#include "herd/sim/run/component_counts.hpp"

namespace herd::sim::run {

std::size_t RunModel::phase_at(double tokens) const {
  std::size_t i = 0;
  while (i + 1 < phases.size() && tokens >= phases[i].end_tokens) ++i;
  return i;
}

double RunModel::tokens_after(double tokens, double useful_s, double capacity) const {
  for (std::size_t i = phase_at(tokens); useful_s > 0 && i < phases.size(); ++i) {
    const double rate = phases[i].tokens_per_s() * capacity;
    const double to_end = (phases[i].end_tokens - tokens) / rate;
    if (i + 1 == phases.size() || useful_s < to_end) return tokens + useful_s * rate;
    useful_s -= to_end;
    tokens = phases[i].end_tokens;
  }
  return tokens;
}

double RunModel::useful_to_reach(double from, double to, double capacity) const {
  double seconds = 0;
  for (std::size_t i = phase_at(from); from < to && i < phases.size(); ++i) {
    const double until = std::min(to, phases[i].end_tokens);
    seconds += (until - from) / (phases[i].tokens_per_s() * capacity);
    from = until;
  }
  return seconds;
}

double RunModel::ideal_time(double tokens) const { return useful_to_reach(0.0, tokens, 1.0); }

double RunModel::mtbf_s() const {
  double rate = 0;
  for (const auto& f : failures) rate += f.rate_per_s;
  return rate > 0 ? 1.0 / rate : std::numeric_limits<double>::infinity();
}

std::vector<model::Scenario> phase_scenarios(const model::Scenario& base) {
  std::vector<model::Scenario> out;
  for (std::size_t i = 0; i < base.run.batch_schedule.size(); ++i) {
    const auto& ph = base.run.batch_schedule[i];
    nlohmann::json set = ph.set.is_object() ? ph.set : nlohmann::json::object();
    set["model.seq_len"] = ph.seq_len;
    set["plan.global_batch"] = ph.global_batch;
    out.push_back(model::with_overrides(base, set, base.source_of("/run/batch_schedule/" + std::to_string(i))));
  }
  return out;
}

MonteCarloSettings monte_carlo_settings(const model::Scenario& base) { return {base.run.trials, base.run.seed}; }

namespace {

std::vector<Phase> build_phases(const model::Scenario& base, const StepTimeFn& step_time, double budget) {
  const auto scenarios = phase_scenarios(base);
  std::vector<Phase> phases;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const auto& spec = base.run.batch_schedule[i];
    if (budget > 0 && spec.start_tokens >= budget) break;
    Phase p;
    p.start_tokens = spec.start_tokens;
    p.seq_len = spec.seq_len;
    p.global_batch = spec.global_batch;
    p.gpus = scenarios[i].plan.gpus();
    p.dp = scenarios[i].plan.dp;
    p.step_time_s = step_time(scenarios[i]);
    if (!(p.step_time_s > 0) || !std::isfinite(p.step_time_s))
      base.fail("/run/batch_schedule/" + std::to_string(i), "the step time of this phase is not a positive number");
    if (!phases.empty()) phases.back().end_tokens = p.start_tokens;
    phases.push_back(p);
  }
  if (phases.empty()) base.fail("/run/batch_schedule", "has no phase before the token budget");
  if (budget > 0) phases.back().end_tokens = budget;
  return phases;
}

}  // namespace

RunModel build_run_model(const model::Scenario& base, const StepTimeFn& step_time) {
  RunModel m;
  m.name = base.name;
  m.token_budget = base.run.tokens;
  m.window_s = base.run.window_s;
  if (m.token_budget <= 0 && m.window_s <= 0)
    base.fail("/run", "give run.tokens (train to a budget) or run.window (simulate a time window)");
  m.phases = build_phases(base, step_time, m.token_budget);

  const model::ReliabilitySpec& rel = base.reliability;
  const ComponentCounts counts = component_counts(base.cluster);
  for (const auto& f : rel.failures) {
    FailureProcess p;
    p.name = f.name;
    p.category = f.category;
    p.rate_per_s = f.rate_per_s * counts.of(f.component) * f.multiplier * rel.failure_multiplier;
    p.distribution = f.distribution;
    p.weibull_shape = f.weibull_shape;
    p.detection_s = f.detection_s >= 0 ? f.detection_s : rel.detection_s;
    p.replaces_node = f.replaces_node;
    m.failures.push_back(std::move(p));
  }
  m.planned_rate_per_s = rel.planned_rate_per_s;
  m.detection_s = rel.detection_s;
  m.allocated_gpus = 0;
  for (const auto& p : m.phases) m.allocated_gpus = std::max(m.allocated_gpus, double(p.gpus));
  // Every restart re-creates the communicators of all the job's GPUs.
  m.relaunch_s = rel.restart_s + rel.communicator_setup_per_gpu_s * m.allocated_gpus;
  m.checkpoint_mode = rel.checkpoint.mode;
  m.checkpoint = checkpoint_cost(base, rel.checkpoint);
  m.interval_s = rel.checkpoint.interval_s;
  m.spares = rel.spares;
  // A node holds gpus_per_node / (tp cp pp) replicas when a replica is smaller than a node.
  m.dp = base.plan.dp;
  const int model_parallel = base.plan.tp * base.plan.cp * base.plan.pp;
  m.replicas_per_node = std::max(1, base.cluster.gpus_per_node / std::max(1, model_parallel));

  // A job that fails again long before it can recover and train one step never progresses: with
  // interruptions at rate r, surviving a window W takes e^(rW) restarts on average, and the trials
  // would run without end. Such a scenario is refused up front.
  double rate = m.planned_rate_per_s;
  double detect = m.detection_s;
  for (const auto& f : m.failures) {
    rate += f.rate_per_s;
    if (f.rate_per_s > 0) detect = std::min(detect, f.detection_s);
  }
  const double window = detect + m.relaunch_s + m.checkpoint.load_s + (m.phases.empty() ? 0.0 : m.phases.front().step_time_s);
  if (rate * window > kMaxInterruptionsPerWindow)
    base.fail(rel.failure_multiplier != 1 ? "/reliability/failure_multiplier" : "/reliability",
              "the job is interrupted every " + model::format_time(1 / rate) + " on average, while a recovery and one "
              "step take " + model::format_time(window) + ": no run can progress");
  return m;
}

}  // namespace herd::sim::run
