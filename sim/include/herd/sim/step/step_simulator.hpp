#pragma once
// One training step of the whole cluster, simulated: every pipeline stage runs its lowered program
// (step_program.hpp) on streams, collectives and pipeline transfers run on the fluid network over
// the cluster's topology (fabric_comm.hpp). Symmetric mode simulates one GPU per pipeline stage
// and counts the traffic of every copy; per-rank mode simulates every GPU (stragglers, degraded
// NICs).
//
// A StepSimulator is the platform such steps run on: the cluster's fabric (topology, routing,
// slots), built once per distinct cluster and shared, immutable, by every simulation; and the
// prepared network operations of recent rank layouts (CommCache). Evaluating many layouts of one
// cluster (a planner, a GUI) therefore pays for the topology once. It is safe to call simulate()
// from many threads at once; the result depends only on the scenario and options, never on what
// ran before or beside it.
#include <memory>
#include <utility>
#include <vector>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/fabric/fabric.hpp"
#include "herd/sim/step/comm_model.hpp"
#include "herd/sim/step/step_report.hpp"

namespace herd::sim {

struct StepOptions {
  bool per_rank = false;  ///< simulate every GPU instead of one per pipeline stage
  bool trace = false;     ///< record every op as a span (StepReport::trace)
  const model::CalibrationProfile* calibration = nullptr;
  /// What-ifs (per-rank mode): global rank -> fraction slower (0.2 = every compute op takes 1.2x).
  std::vector<std::pair<int, double>> slow_ranks;
  /// A communication model to use instead of the fabric (tests: a free or closed-form network).
  CommModel* comm = nullptr;
};

/// The what-ifs a scenario asks for (`whatif.*`): stragglers and degraded NICs switch on per-rank
/// mode. Throws model::InputError for a rank outside the job.
StepOptions step_options_for(const model::Scenario& s);

class StepSimulator {
 public:
  /// `layouts`: how many rank layouts' prepared network operations to keep per cluster.
  explicit StepSimulator(std::size_t layouts = 16);
  ~StepSimulator();
  StepSimulator(const StepSimulator&) = delete;
  StepSimulator& operator=(const StepSimulator&) = delete;

  /// Simulates one step of `s`. Throws Cancelled when `control` asks to stop, model::ValueError
  /// for a fabric that cannot be built.
  StepReport simulate(const model::Scenario& s, const StepOptions& options = {}, const Control& control = {}) const;

  /// The fabric of `cluster`: built on first use, then shared.
  std::shared_ptr<const Fabric> fabric(const model::ClusterSpec& cluster) const;
  /// Prepared network operations found in the cache / prepared anew, over all clusters.
  std::pair<std::uint64_t, std::uint64_t> cache_hits_misses() const;

 private:
  struct Platform;
  std::unique_ptr<Platform> platform_;
};

/// One step on a fresh platform (what `herd simulate` does once).
StepReport simulate_step(const model::Scenario& s, const StepOptions& options = {}, const Control& control = {});

}  // namespace herd::sim
