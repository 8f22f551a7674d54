#pragma once
// `herd simulate`: one training step of the whole cluster — step time, MFU, where the time goes,
// memory — and, when asked, every op as a trace span.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "herd/app/scenario_loading.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/step_simulator.hpp"
#include "herd/sim/step/trace_export.hpp"

namespace herd::app {

struct SimulateRequest {
  model::Scenario scenario;
  bool per_rank = false;         ///< simulate every GPU, not one per pipeline stage
  bool trace = false;            ///< record every op as a span (StepReport::trace, sim::chrome_trace_json)
  /// Write the step's Chrome trace to this file as the step runs (sim::ChromeTraceWriter), atomically;
  /// the report's trace stays empty and memory does not grow with the spans. Empty: no file.
  std::string trace_file;
  /// With trace_file, the simulated ranks ("0-7,128") and streams ("compute,dp_comm") it keeps
  /// (parse_trace_filter); empty: all. The step, its report and its power are the same either way.
  std::string trace_ranks, trace_streams;
  /// Hand every span to this sink as the step runs (sim::StepOptions::trace_sink), beside any
  /// trace_file; the report's trace stays empty and the power is built from the same spans. Null: none.
  sim::TraceSink* trace_sink = nullptr;
  /// What the cluster draws through the step (SimulateResult::power). It needs every op's span:
  /// computed in symmetric mode, and per rank with `trace`, a `trace_file` or up to
  /// kPowerPerRankLimit GPUs, or a `trace_sink`.
  bool power = true;
  /// With what-ifs (stragglers, degraded NICs, a power cap or floor): also the same step without
  /// them, in the same mode (SimulateResult::baseline), so the what-if's cost can be read off.
  bool baseline = true;
  std::string calibration_file;  ///< empty: the scenario's `calibration` key, if any
  /// A platform shared with other calls (a GUI, a planner): fabrics and prepared network
  /// operations built once. Null: a platform of this call's own.
  const sim::StepSimulator* simulator = nullptr;
};

struct SimulateResult {
  sim::StepReport report;
  std::string calibration_warning;  ///< the profile was measured on another GPU; "" when not
  ComputeLevel level;               ///< the compute level the step used, and where it came from
  std::optional<sim::StepPower> power;  ///< when asked and the mode allows (SimulateRequest::power)
  /// The plan does not fit in memory: what to tell the user first ("" when it fits).
  std::string memory_warning;
  /// The scenario's what-ifs, named ("2 stragglers, a power cap of 500 W"); "" without.
  std::string whatifs;
  /// The same step without its what-ifs, in the same mode; with what-ifs and SimulateRequest::baseline.
  struct Baseline {
    double step_time_s = 0, mfu = 0;
    bool per_rank = false;
    std::optional<sim::StepPower> power;
  };
  std::optional<Baseline> baseline;
};

/// "" when every stage fits, else "the plan does not fit in memory: stage 1 needs 93.2 of 80.0 GiB".
std::string memory_warning(const model::MemoryReport& memory);
/// The what-ifs `s` carries, in words; "" when none.
std::string describe_whatifs(const model::Scenario& s);
/// `s` without its what-ifs.
model::Scenario without_whatifs(const model::Scenario& s);

/// Per-rank steps of more GPUs get their power only with a trace (in memory or streamed to a file):
/// without one, the power would cost a second, traced simulation of the step.
inline constexpr int kPowerPerRankLimit = 1024;

/// The filter of a trace file among `ranks` simulated ranks: `ranks_text` a rank list as
/// parse_ranks reads it, `streams_text` stream names (compute, tp_comm, cp_comm, pp_comm, dp_comm)
/// separated by commas; empty: all. Throws model::InputError naming --trace-ranks or
/// --trace-streams (an unknown stream: the valid ones listed).
sim::TraceFilter parse_trace_filter(const std::string& ranks_text, const std::string& streams_text, int ranks);

/// Reports the step's progress to `control`. Throws model::InputError for an unreadable calibration
/// profile or a fabric that cannot be built (naming the key at fault), sim::Cancelled when `control` asks
/// to stop.
SimulateResult simulate(const SimulateRequest& request, const sim::Control& control = {});

/// The `herd simulate --json` object (schema in docs/cli.md).
nlohmann::json to_json(const SimulateResult& result);
/// `herd simulate --csv`: "figure,value", one row per figure of to_json (model::json_figures: the
/// breakdown, every stage's finish and memory, power, the baseline), the power series left out.
std::string to_csv(const SimulateResult& result);

}  // namespace herd::app
