#include "herd/sim/step/step_simulation.hpp"

namespace herd::sim {

StepOptions step_options_for(const model::Scenario& s) {
  StepOptions opt;
  for (const auto& straggler : s.whatif.stragglers) opt.slow_ranks.emplace_back(straggler.rank, straggler.slowdown);
  // Either what-if makes ranks differ, which symmetric mode (one GPU per stage) cannot show.
  opt.per_rank = !opt.slow_ranks.empty() || !s.cluster.degraded_nics.empty();
  return opt;
}

}  // namespace herd::sim
