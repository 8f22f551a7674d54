#include "herd/app/train_use_case.hpp"

#include <map>

#include "herd/app/scenario_loading.hpp"
#include "herd/app/simulate_use_case.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/memory.hpp"
#include "herd/sim/power/run_power.hpp"
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

std::string run_timeline_file(const TrainResult& result, const std::string& title) {
  if (!result.timeline) throw std::logic_error("run_timeline_file: the result has no timeline");
  nlohmann::json doc = nlohmann::json::parse(result.power ? sim::timeline_chrome_json_with_power(*result.timeline, title, *result.power)
                                                          : run::timeline_chrome_json(*result.timeline, title));
  doc["herd_run_report"] = to_json(result);
  return doc.dump() + "\n";
}

namespace {

bool is_run_report(const nlohmann::json& j) { return j.is_object() && j.contains("time_to_train_days"); }

/// One run's `--json` object at `at` in `source`.
TrainResult read_run(const nlohmann::json& j, const std::string& source, const std::string& at) {
  TrainResult r;
  try {
    r.report = run::run_report_from_json(j);
    if (j.contains("compute_level") && j["compute_level"].is_object())
      r.level = {j["compute_level"].value("sustained", 1.0), j["compute_level"].value("origin", std::string())};
    if (j.contains("energy")) {
      try {
        auto [energy, levels] = sim::run_energy_from_json(j.at("energy"));
        r.energy = energy;
        r.power = std::move(levels);
      } catch (const nlohmann::json::exception& e) {
        throw model::InputError(source, at + "/energy", std::string("not a `herd train --json` result: ") + e.what());
      }
    }
    if (j.contains("memory_warning")) r.memory_warning = j.at("memory_warning").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw model::InputError(source, at, std::string("not a `herd train --json` result: ") + e.what());
  } catch (const model::ValueError& e) {
    throw model::InputError(source, at + e.pointer(), e.message());
  }
  return r;
}

}  // namespace

bool is_saved_run(const nlohmann::json& doc) {
  if (!doc.is_object()) return false;
  if (doc.contains("herd_run_timeline") || is_run_report(doc)) return true;
  return doc.size() == 2 && is_run_report(doc.value("a", nlohmann::json())) && is_run_report(doc.value("b", nlohmann::json()));
}

std::vector<SavedRun> read_saved_runs(const nlohmann::json& doc, const std::string& source) {
  if (!is_saved_run(doc))
    throw model::InputError(source, "", "not a `herd train --json` or `--timeline` result");
  if (doc.contains("herd_run_timeline")) {
    if (!doc.contains("herd_run_report"))
      throw model::InputError(source, "/herd_run_report",
                       "missing: this run timeline was written without its report; write it again with `herd train --timeline FILE`");
    SavedRun run;
    run.result = read_run(doc.at("herd_run_report"), source, "/herd_run_report");
    run.label = run.result.report.name;
    try {
      run.result.timeline = run::run_timeline_from_json(doc.at("herd_run_timeline"));
    } catch (const nlohmann::json::exception& e) {
      throw model::InputError(source, "/herd_run_timeline", std::string("not a `herd train --timeline` file: ") + e.what());
    } catch (const model::ValueError& e) {
      throw model::InputError(source, "/herd_run_timeline" + e.pointer(), e.message());
    }
    return {std::move(run)};
  }
  if (is_run_report(doc)) {
    SavedRun run;
    run.result = read_run(doc, source, "");
    run.label = run.result.report.name;
    return {std::move(run)};
  }
  std::vector<SavedRun> runs;
  for (const char* key : {"a", "b"}) {
    SavedRun run;
    run.result = read_run(doc.at(key), source, std::string("/") + key);
    run.label = std::string(key[0] == 'a' ? "A: " : "B: ") + run.result.report.name;
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace herd::app
