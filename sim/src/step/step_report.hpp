#pragma once
#include <vector>

#include "executor.hpp"

namespace herd::sim::detail {

/// Step time, throughput, MFU/HFU, the breakdown of the rank that finished last and the memory.
StepReport assemble_report(const model::Scenario& s, const StepPlan& plan, const std::vector<RankState>& ranks,
                           std::vector<TraceSpan> trace, std::uint64_t events, bool per_rank);

}  // namespace herd::sim::detail
