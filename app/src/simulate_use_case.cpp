#include "herd/app/simulate_use_case.hpp"

#include <cstdio>
#include <optional>
#include <vector>

#include "herd/app/collective_inputs.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/units.hpp"

namespace herd::app {

std::string memory_warning(const model::MemoryReport& memory) {
  if (memory.fits || memory.stages.empty()) return "";
  const auto& worst = memory.stages[static_cast<std::size_t>(memory.largest_stage)];
  char line[160];
  std::snprintf(line, sizeof line, "the plan does not fit in memory: stage %d needs %.1f of %.1f GiB", worst.stage,
                worst.total() / double(1ULL << 30), memory.capacity_bytes / double(1ULL << 30));
  return line;
}

std::string describe_whatifs(const model::Scenario& s) {
  std::vector<std::string> parts;
  auto count = [](std::size_t n, const char* one, const char* many) {
    return n == 1 ? std::string("1 ") + one : std::to_string(n) + " " + many;
  };
  if (!s.whatif.stragglers.empty()) parts.push_back(count(s.whatif.stragglers.size(), "straggler", "stragglers"));
  if (!s.cluster.degraded_nics.empty()) parts.push_back(count(s.cluster.degraded_nics.size(), "degraded NIC", "degraded NICs"));
  if (s.whatif.power_cap_w > 0) parts.push_back("a power cap of " + model::format_power(s.whatif.power_cap_w));
  if (s.whatif.power_floor_w > 0) parts.push_back("a power floor of " + model::format_power(s.whatif.power_floor_w));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

model::Scenario without_whatifs(const model::Scenario& s) {
  return model::with_overrides(s,
                               {{"whatif.stragglers", nlohmann::json::array()},
                                {"whatif.degraded_nics", nlohmann::json::array()},
                                {"whatif.power_cap", nullptr},
                                {"whatif.power_floor", nullptr}},
                               "the baseline without what-ifs");
}

namespace {

/// The step's power: from its own trace, else from the same step simulated with one.
std::optional<sim::StepPower> power_of(const model::Scenario& s, const sim::StepReport& report, const sim::StepOptions& options,
                                       const sim::StepSimulator& simulator, const sim::Control& control) {
  // The power comes from the same step traced (the traced step is the untraced one).
  const sim::PowerSetup setup = sim::power_setup(s, simulator);
  if (options.trace && !options.trace_sink) return sim::step_power(report, setup);
  // What the power needs of each span, not the spans.
  sim::PowerRecorder recorder(setup, report.simulated_ranks);
  sim::StepOptions traced = options;
  traced.trace = true;
  traced.trace_sink = &recorder;
  return recorder.finish(simulator.simulate(s, traced, control));
}

}  // namespace

SimulateResult simulate(const SimulateRequest& request, const sim::Control& control) {
  SimulateResult result;
  const std::optional<model::CalibrationProfile> profile = calibration_profile(request.scenario, request.calibration_file);
  const model::Scenario s = with_profile(request.scenario, profile ? &*profile : nullptr);
  result.level = compute_level(s, profile ? &*profile : nullptr);
  sim::StepOptions options;
  options.per_rank = request.per_rank;
  const bool per_rank = request.per_rank || sim::needs_per_rank(s);
  const bool to_file = !request.trace_file.empty();
  const bool streamed = to_file || request.trace_sink;
  const bool power = request.power && (request.trace || streamed || !per_rank || s.plan.gpus() <= kPowerPerRankLimit);
  options.trace = request.trace || streamed;
  const int ranks = per_rank ? s.plan.gpus() : s.plan.pp;
  sim::TraceFilter filter;
  if (to_file) filter = parse_trace_filter(request.trace_ranks, request.trace_streams, ranks);
  if (profile) {
    options.calibration = &*profile;
    result.calibration_warning = model::profile_mismatch(*profile, s.cluster.gpu);
  }
  // A fabric that cannot be built is the scenario's fault: input at fault (exit code 2).
  std::optional<sim::StepSimulator> own;
  const sim::StepSimulator& simulator = request.simulator ? *request.simulator : own.emplace(1);
  try {
    if (streamed) {
      // The spans go to their file and the caller's sink as the step runs; the power is built
      // from the same spans.
      std::optional<sim::ChromeTraceWriter> writer;
      if (to_file) writer.emplace(request.trace_file, s.name, ranks, per_rank, filter);
      std::optional<sim::PowerRecorder> recorder;
      if (power) recorder.emplace(sim::power_setup(s, simulator), ranks);
      std::vector<sim::TraceSink*> sinks;
      if (writer) sinks.push_back(&*writer);
      if (recorder) sinks.push_back(&*recorder);
      if (request.trace_sink) sinks.push_back(request.trace_sink);
      sim::TraceTee tee(sinks);
      options.trace_sink = sinks.size() == 1 ? sinks.front() : &tee;
      result.report = simulator.simulate(s, options, control);
      if (recorder) result.power = recorder->finish(result.report);
      if (writer) writer->finish(result.report.step_time_s, result.power ? &*result.power : nullptr);
      options.trace_sink = nullptr;
    } else {
      result.report = simulator.simulate(s, options, control);
      if (power) result.power = power_of(s, result.report, options, simulator, control);
    }
    result.memory_warning = memory_warning(result.report.memory);
    result.whatifs = describe_whatifs(s);
    if (request.baseline && !result.whatifs.empty()) {
      // The same mode as the what-if's step: a straggler makes it per rank, so the baseline is too.
      const model::Scenario base = without_whatifs(s);
      sim::StepOptions base_options = options;
      base_options.per_rank = per_rank;
      base_options.trace = false;
      const sim::StepReport r = simulator.simulate(base, base_options, control);
      SimulateResult::Baseline b{r.step_time_s, r.mfu, per_rank, std::nullopt};
      if (power) b.power = power_of(base, r, base_options, simulator, control);
      result.baseline = b;
    }
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  } catch (const engine::TimeOverflow&) {
    time_overflow(s);
  }
  return result;
}

sim::TraceFilter parse_trace_filter(const std::string& ranks_text, const std::string& streams_text, int ranks) {
  sim::TraceFilter filter;
  if (!ranks_text.empty()) filter.ranks = parse_ranks(ranks_text, ranks, "--trace-ranks");
  if (!streams_text.empty()) {
    filter.streams.fill(false);
    std::string names;
    for (int i = 0; i < model::kStreams; ++i) names += (i ? ", " : "") + std::string(model::to_string(static_cast<model::Stream>(i)));
    std::size_t at = 0;
    while (at <= streams_text.size()) {
      const std::size_t comma = std::min(streams_text.find(',', at), streams_text.size());
      const std::string name = streams_text.substr(at, comma - at);
      int found = -1;
      for (int i = 0; i < model::kStreams; ++i)
        if (name == model::to_string(static_cast<model::Stream>(i))) found = i;
      if (found < 0)
        throw model::InputError("--trace-streams", "", "unknown stream \"" + name + "\" (valid: " + names + ")");
      filter.streams[static_cast<std::size_t>(found)] = true;
      at = comma + 1;
    }
  }
  return filter;
}

nlohmann::json to_json(const SimulateResult& result) {
  nlohmann::json j = sim::step_report_json(result.report);
  j["compute_level"] = to_json(result.level);
  if (result.power) j["power"] = sim::step_power_json(*result.power);
  if (!result.memory_warning.empty()) j["memory_warning"] = result.memory_warning;
  if (result.baseline) {
    const auto& b = *result.baseline;
    nlohmann::json base{{"whatifs", result.whatifs}, {"step_time_s", b.step_time_s}, {"mfu", b.mfu}, {"per_rank", b.per_rank}};
    if (b.power) base["power"] = sim::step_power_json(*b.power, false);
    j["baseline"] = base;
  }
  return j;
}

std::string to_csv(const SimulateResult& result) {
  model::CsvTable table({"figure", "value"});
  for (const auto& [name, value] : model::json_figures(to_json(result), {"power.series"})) table.add_row({name, value});
  return table.text();
}

}  // namespace herd::app
