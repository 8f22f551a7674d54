#include "herd/app/train_use_case.hpp"

#include <map>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/memory.hpp"
#include "herd/sim/run/report_json.hpp"
#include "herd/sim/run/run_model.hpp"

namespace herd::app {

namespace {

namespace run = sim::run;

sim::StepPower phase_power(const model::Scenario& phase, const sim::StepReport& report, const sim::StepSimulator& simulator) {
  return sim::step_power(report, sim::power_setup(phase, simulator));
}

// Where each phase's step time comes from: a step time the scenario gives, else the phase's step
// simulation with its what-ifs (and with the calibration profile, when there is one), as
// `herd simulate` would run it. `profile`, `simulator` and `control` outlive the source: the run
// model times its phases while it is built.
run::StepTimeSource step_time_source(const model::Scenario& s, const model::CalibrationProfile* profile,
                                     const sim::StepSimulator& simulator, const sim::Control& control) {
  return run::prefer_given_step_time(
      s, run::StepTimeSource{[profile, &simulator, &control](const model::Scenario& phase) {
                               sim::StepOptions options;
                               options.calibration = profile;
                               // A fabric that cannot be built is the scenario's fault: input at fault.
                               try {
                                 return simulator.simulate(phase, options, control).step_time_s;
                               } catch (const model::ValueError& e) {
                                 phase.fail(e.pointer(), e.message());
                               } catch (const engine::TimeOverflow&) {
                                 time_overflow(phase);
                               }
                             },
                             "herd simulate, " + describe(compute_level(s, profile))});
}

/// Each modelled phase's step power, from its step simulated with a trace (as `herd simulate`
/// does; a per-rank step of more than kPowerPerRankLimit GPUs: the symmetric one, without its
/// stragglers and degraded NICs). A phase's given step time keeps the simulated draw.
std::vector<sim::StepPower> phase_powers(const model::Scenario& s, std::size_t phases, const model::CalibrationProfile* profile,
                                         const sim::StepSimulator& simulator, const sim::Control& control) {
  std::vector<sim::StepPower> out;
  const auto scenarios = run::phase_scenarios(s);
  for (std::size_t i = 0; i < phases && i < scenarios.size(); ++i) {
    model::Scenario phase = scenarios[i];
    if (sim::needs_per_rank(phase) && phase.plan.gpus() > kPowerPerRankLimit)
      phase = model::with_overrides(phase, {{"whatif.stragglers", nlohmann::json::array()}, {"whatif.degraded_nics", nlohmann::json::array()}},
                                    "the power of the symmetric step");
    sim::StepOptions options;
    options.calibration = profile;
    options.trace = true;
    try {
      out.push_back(phase_power(phase, simulator.simulate(phase, options, control), simulator));
    } catch (const model::ValueError& e) {
      phase.fail(e.pointer(), e.message());
    }
  }
  return out;
}

TrainResult train_on(const TrainRequest& request, const sim::StepSimulator& simulator, const sim::Control& control) {
  sim::check_stop(control);
  const auto profile = calibration_profile(request.scenario, request.calibration_file);
  const model::Scenario s = with_profile(request.scenario, profile ? &*profile : nullptr);
  try {
    const run::RunSimulation simulation(s, step_time_source(s, profile ? &*profile : nullptr, simulator, control));
    const auto settings = run::monte_carlo_settings(s);
    TrainResult result;
    result.level = compute_level(s, profile ? &*profile : nullptr);
    result.report = simulation.run(request.trials.value_or(settings.trials), request.seed.value_or(settings.seed), control);
    const auto phases = run::phase_scenarios(s);
    for (std::size_t i = 0; i < phases.size() && i < result.report.phases.size() && result.memory_warning.empty(); ++i) {
      const std::string warning = memory_warning(model::analyse_memory(phases[i]));
      if (!warning.empty()) result.memory_warning = (phases.size() > 1 ? "phase " + std::to_string(i) + ": " : "") + warning;
    }
    if (request.timeline)
      result.timeline = simulation.timeline(result.report.seed, 0, result.report.checkpoint_interval_s);
    if (request.power) {
      const auto steps = phase_powers(s, result.report.phases.size(), profile ? &*profile : nullptr, simulator, control);
      result.power = sim::run_power_levels(steps, sim::power_setup(s, simulator), s.cluster.power.price_per_mwh);
      result.energy = sim::run_energy(result.report, *result.power);
    }
    return result;
  } catch (const engine::TimeOverflow&) {
    time_overflow(s);
  }
}

}  // namespace

TrainResult train(const TrainRequest& request, const sim::Control& control) {
  const sim::StepSimulator own;
  return train_on(request, request.simulator ? *request.simulator : own, control);
}

nlohmann::json to_json(const TrainResult& result) {
  nlohmann::json j = run::run_report_json(result.report);
  j["compute_level"] = to_json(result.level);
  if (result.energy) j["energy"] = sim::run_energy_json(*result.energy, *result.power);
  if (!result.memory_warning.empty()) j["memory_warning"] = result.memory_warning;
  return j;
}

TrainComparison compare(const TrainRequest& a, const TrainRequest& b, const sim::Control& control) {
  const sim::StepSimulator own;
  TrainComparison comparison;
  comparison.a = train_on(a, a.simulator ? *a.simulator : own, control);
  comparison.b = train_on(b, b.simulator ? *b.simulator : own, control);
  return comparison;
}

nlohmann::json to_json(const TrainComparison& comparison) {
  return {{"a", to_json(comparison.a)}, {"b", to_json(comparison.b)}};
}

std::string to_csv(const TrainResult& result) {
  model::CsvTable table({"figure", "value"});
  for (const auto& [name, value] : model::json_figures(to_json(result))) table.add_row({name, value});
  return table.text();
}

std::string to_csv(const TrainComparison& comparison) {
  const auto a = model::json_figures(to_json(comparison.a));
  const auto b = model::json_figures(to_json(comparison.b));
  std::vector<std::string> names;
  std::map<std::string, std::pair<std::string, std::string>> values;
  for (const auto& [name, value] : a) names.push_back(name), values[name].first = value;
  for (const auto& [name, value] : b) {
    if (!values.contains(name)) names.push_back(name);
    values[name].second = value;
  }
  model::CsvTable table({"figure", "a", "b"});
  for (const auto& name : names) table.add_row({name, values[name].first, values[name].second});
  return table.text();
}

}  // namespace herd::app
