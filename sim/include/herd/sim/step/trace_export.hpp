#pragma once
// Chrome trace-event JSON (opens in Perfetto and chrome://tracing): one process per simulated rank,
// one thread per stream, a complete event ("ph": "X") per op with its shape, FLOPs, bytes, group.
#include <string>

#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_report.hpp"

namespace herd::sim {

/// With `power`, a process "power" carries counter tracks: the cluster's IT power (MW) and, up to
/// StepPower::kMaxRankSeries ranks, one GPU's draw per simulated rank (W).
std::string chrome_trace_json(const StepReport& report, const StepPower* power = nullptr);

}  // namespace herd::sim
