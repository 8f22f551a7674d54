#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per simulated rank,
// one thread per stream, a complete event ("ph": "X") per op with its shape, FLOPs, bytes, group.
#include <string>

#include "herd/sim/step/step_simulation.hpp"

namespace herd::sim {

std::string chrome_trace_json(const StepReport& report);

/// The JSON object `herd simulate --json` prints (schema in docs/cli.md).
nlohmann::json step_report_json(const StepReport& report);

std::string_view to_string(CommGroup g);

}  // namespace herd::sim
