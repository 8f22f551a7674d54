#pragma once
// A step saved by `herd simulate --trace FILE` (Chrome trace-event JSON), read back into a report
// with its trace, so the step timeline opens it without simulating again; and the step's power,
// from the trace's counter tracks, when it has them.
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_report.hpp"

namespace herd::gui {

struct SavedStep {
  sim::StepReport report;  ///< scenario name, step time, per-rank flag, trace and its ops; no breakdown
  /// The op names the report's TraceOp::name views point into.
  std::shared_ptr<const std::deque<std::string>> names;
  /// The power counters ("cluster power (IT)" and each rank's GPU): the step, the bins and their
  /// resolution (from the counters' times); the trace holds no window figures (window_s is 0).
  std::optional<sim::StepPower> power;
};

/// Whether `doc` looks like a Chrome trace (an object with "traceEvents").
bool is_chrome_trace(const nlohmann::json& doc);

/// Reads a trace written by sim::chrome_trace_json. Throws model::InputError naming `source` and
/// the JSON pointer of what cannot be read ("/traceEvents/12/args/kind: unknown op kind \"x\"").
SavedStep read_saved_step(const nlohmann::json& doc, const std::string& source);
SavedStep read_saved_step_file(const std::filesystem::path& file);

}  // namespace herd::gui
