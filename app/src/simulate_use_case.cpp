#include "herd/app/simulate_use_case.hpp"

#include <optional>

#include "herd/app/scenario_loading.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/error.hpp"

namespace herd::app {

SimulateResult simulate(const SimulateRequest& request, const sim::Control& control) {
  SimulateResult result;
  const std::optional<model::CalibrationProfile> profile = calibration_profile(request.scenario, request.calibration_file);
  const model::Scenario s = with_profile(request.scenario, profile ? &*profile : nullptr);
  result.level = compute_level(s, profile ? &*profile : nullptr);
  sim::StepOptions options;
  options.per_rank = request.per_rank;
  const bool per_rank = request.per_rank || sim::needs_per_rank(s);
  const bool power = request.power && (request.trace || !per_rank || s.plan.gpus() <= kPowerPerRankLimit);
  options.trace = request.trace;
  if (profile) {
    options.calibration = &*profile;
    result.calibration_warning = model::profile_mismatch(*profile, s.cluster.gpu);
  }
  // A fabric that cannot be built is the scenario's fault: input at fault (exit code 2).
  std::optional<sim::StepSimulator> own;
  const sim::StepSimulator& simulator = request.simulator ? *request.simulator : own.emplace(1);
  try {
    result.report = simulator.simulate(s, options, control);
    if (power) {
      // Without a trace the executor runs a stretch of compute ops as one event, which can move
      // the step by up to ~0.1 % (and its breakdown's attribution); the report stays the untraced one,
      // and the power comes from the same step traced.
      const int switches = sim::count_switches(simulator.fabric(s.cluster)->topology());
      const sim::PowerSetup setup = sim::power_setup(s, switches);
      if (request.trace) {
        result.power = sim::step_power(result.report, setup);
      } else {
        sim::StepOptions traced = options;
        traced.trace = true;
        result.power = sim::step_power(simulator.simulate(s, traced, control), setup);
      }
    }
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  } catch (const engine::TimeOverflow&) {
    time_overflow(s);
  }
  return result;
}

nlohmann::json to_json(const SimulateResult& result) {
  nlohmann::json j = sim::step_report_json(result.report);
  j["compute_level"] = to_json(result.level);
  if (result.power) j["power"] = sim::step_power_json(*result.power);
  return j;
}

}  // namespace herd::app
