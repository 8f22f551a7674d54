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
#include "herd/sim/step/comm_plan.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/trace_sink.hpp"

namespace herd::sim {

/// How to simulate, not what: the what-ifs (stragglers, degraded NICs) are the scenario's own
/// (`whatif.*`, model::Scenario::whatif and ClusterSpec::degraded_nics), so every caller sees
/// them; a scenario with any of them is always simulated per rank.
struct StepOptions {
  bool per_rank = false;  ///< simulate every GPU even when the scenario has no what-if
  bool trace = false;     ///< record every op as a span (StepReport::trace)
  /// With `trace`: each span goes to this sink as it completes and StepReport::trace stays empty
  /// (StepReport::trace_ops still lists the ops), so memory does not grow with the spans. Per
  /// rank the spans stream out as the step runs; in symmetric mode (one rank per stage, few
  /// spans) they are handed over when it ends, once replicated periods are filled in. The step's
  /// results are those of a traced step without a sink.
  TraceSink* trace_sink = nullptr;
  /// Symmetric mode: once the steady state repeats exactly (the whole state at one micro-batch
  /// equal to that at an earlier one, shifted), replicate its periods instead of simulating them.
  /// Same results, times, breakdown, events and trace; off: simulate every period.
  bool skip_repeats = true;
  const model::CalibrationProfile* calibration = nullptr;
  /// A communication model to use instead of the fabric (tests: a free or closed-form network).
  CommModel* comm = nullptr;
};

/// Whether `s` must be simulated per rank: a straggler or a degraded NIC makes ranks differ,
/// which one GPU per stage cannot show.
bool needs_per_rank(const model::Scenario& s);

class StepSimulator {
 public:
  /// `layouts`: how many rank layouts' prepared network operations to keep per cluster (0: none,
  /// every step prepares its network afresh).
  explicit StepSimulator(std::size_t layouts = 16);
  ~StepSimulator();
  StepSimulator(const StepSimulator&) = delete;
  StepSimulator& operator=(const StepSimulator&) = delete;

  /// Simulates one step of `s`. Throws Cancelled when `control` asks to stop, model::ValueError
  /// for a fabric that cannot be built.
  StepReport simulate(const model::Scenario& s, const StepOptions& options = {}, const Control& control = {}) const;

  /// The fabric of `cluster`: built on first use, then shared.
  std::shared_ptr<const Fabric> fabric(const model::ClusterSpec& cluster) const;
  /// `plan`'s network operations prepared for symmetric mode on this platform (its fabric of
  /// s.cluster and its cache), as simulate() would use them: for callers that bound a step's
  /// communication without running it (a planner).
  std::shared_ptr<const CommPlan> prepare_symmetric(const model::Scenario& s, const StepPlan& plan) const;
  /// Prepared network operations found in the cache / prepared anew, over all clusters.
  std::pair<std::uint64_t, std::uint64_t> cache_hits_misses() const;

 private:
  struct Platform;
  std::unique_ptr<Platform> platform_;
};

/// One step on a fresh platform (what `herd simulate` does once).
StepReport simulate_step(const model::Scenario& s, const StepOptions& options = {}, const Control& control = {});

}  // namespace herd::sim
