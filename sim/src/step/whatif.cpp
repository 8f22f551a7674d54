#include "herd/model/params.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::sim {

StepOptions step_options_for(const model::Scenario& s) {
  StepOptions opt;
  const model::ParamReader r(s.resolved);
  const auto stragglers = r.raw("/whatif/stragglers");
  for (std::size_t i = 0; i < stragglers.size(); ++i) {
    const std::string at = "/whatif/stragglers/" + std::to_string(i);
    const long long rank = r.integer(at + "/rank");
    if (rank >= s.plan.gpus())
      s.fail(at + "/rank", "rank " + std::to_string(rank) + " is outside the job's " + std::to_string(s.plan.gpus()) + " GPUs");
    opt.slow_ranks.emplace_back(static_cast<int>(rank), r.number(at + "/slowdown"));
  }
  opt.per_rank = !opt.slow_ranks.empty() || !s.cluster.degraded_nics.empty();
  return opt;
}

}  // namespace herd::sim
