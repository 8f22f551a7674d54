#pragma once
// Step time, throughput, MFU/HFU, the breakdown of the rank that finished last, memory and the
// trace, from what the executor left (internal).
#include <vector>

#include "executor.hpp"

namespace herd::sim::detail {

/// Checks the critical rank's breakdown (check_breakdown: an invariant failure if its parts add up
/// to more than the step).
StepReport assemble_report(const model::Scenario& s, const StepPlan& plan, const std::vector<RankState>& ranks,
                           std::vector<RecordedSpan> spans, std::uint64_t events, bool per_rank);

}  // namespace herd::sim::detail
