// The platform (fabrics and prepared network operations, shared) and one step's simulation on it.
#include "herd/sim/step/step_simulator.hpp"

#include <deque>
#include <mutex>
#include <optional>

#include "assemble_report.hpp"
#include "executor.hpp"
#include "herd/sim/step/comm_plan.hpp"
#include "herd/sim/step/fabric_comm.hpp"

namespace herd::sim {

struct StepSimulator::Platform {
  struct Cluster {
    std::shared_ptr<const Fabric> fabric;
    std::unique_ptr<CommCache> cache;
  };
  std::size_t layouts;
  mutable std::mutex mutex;
  std::deque<Cluster> clusters;  // few; a deque keeps references to entries valid as it grows

  // The entry whose fabric serves `cluster`, built (outside the lock) when there is none.
  const Cluster& get(const model::ClusterSpec& cluster) {
    {
      const std::lock_guard lock(mutex);
      for (const auto& c : clusters)
        if (same_network(c.fabric->cluster(), cluster)) return c;
    }
    auto fabric = std::make_shared<const Fabric>(cluster);
    const std::lock_guard lock(mutex);
    for (const auto& c : clusters)
      if (same_network(c.fabric->cluster(), cluster)) return c;
    clusters.push_back({std::move(fabric), std::make_unique<CommCache>(layouts)});
    return clusters.back();
  }
};

StepSimulator::StepSimulator(std::size_t layouts) : platform_(std::make_unique<Platform>()) {
  platform_->layouts = layouts;
}

StepSimulator::~StepSimulator() = default;

std::shared_ptr<const Fabric> StepSimulator::fabric(const model::ClusterSpec& cluster) const {
  return platform_->get(cluster).fabric;
}

std::pair<std::uint64_t, std::uint64_t> StepSimulator::cache_hits_misses() const {
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  const std::lock_guard lock(platform_->mutex);
  for (const auto& c : platform_->clusters) {
    out.first += c.cache->hits();
    out.second += c.cache->misses();
  }
  return out;
}

std::shared_ptr<const CommPlan> StepSimulator::prepare_symmetric(const model::Scenario& s, const StepPlan& plan) const {
  const auto& platform = platform_->get(s.cluster);
  return prepare_comm(*platform.fabric, s, plan, false, platform_->layouts > 0 ? platform.cache.get() : nullptr);
}

bool needs_per_rank(const model::Scenario& s) {
  return !s.whatif.stragglers.empty() || !s.cluster.degraded_nics.empty();
}

StepReport StepSimulator::simulate(const model::Scenario& s, const StepOptions& options, const Control& control) const {
  check_stop(control);
  const bool per_rank = options.per_rank || needs_per_rank(s);
  const model::ComputeCostModel cost(s.cluster.gpu, options.calibration);
  auto plan = std::make_shared<const StepPlan>(lower_step(s, cost));
  const detail::StepGroups groups(s.plan, s.cluster);
  engine::Simulation sim;
  std::optional<FabricComm> fabric_comm;
  CommModel* comm = options.comm;
  if (!comm) {
    const auto& platform = platform_->get(s.cluster);
    fabric_comm.emplace(sim, *platform.fabric,
                        prepare_comm(*platform.fabric, s, *plan, per_rank, platform_->layouts > 0 ? platform.cache.get() : nullptr));
    comm = &*fabric_comm;
  }
  detail::Executor executor(sim, s, *plan, groups, per_rank, options.trace, options.skip_repeats, *comm,
                            options.trace_sink);
  executor.run(control);
  StepReport report = detail::assemble_report(s, *plan, executor.ranks(), std::move(executor.trace()),
                                              executor.events(), per_rank);
  if (options.trace && options.trace_sink) {
    // Spans kept for replicated periods are handed over now, in the order they would have streamed.
    for (const TraceSpan& span : report.trace)
      options.trace_sink->span(span, report.trace_ops[static_cast<std::size_t>(span.op)]);
    report.trace = {};
    if (report.trace_ops.empty()) report.trace_ops = std::move(executor.streamed_ops());
  }
  report.replicated_periods = executor.replicated_periods();
  report.plan = std::move(plan);
  return report;
}

StepReport simulate_step(const model::Scenario& s, const StepOptions& options, const Control& control) {
  return StepSimulator(1).simulate(s, options, control);
}

}  // namespace herd::sim
