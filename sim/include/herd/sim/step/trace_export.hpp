#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per simulated rank,
// one thread per stream, a complete event ("ph": "X") per op with its shape, FLOPs, bytes, group.
#include <string>

#include "herd/sim/step/step_report.hpp"

namespace herd::sim {

std::string chrome_trace_json(const StepReport& report);

}  // namespace herd::sim
