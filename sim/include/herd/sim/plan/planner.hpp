#pragma once
// The layout search: enumerate the space (search_space.hpp), screen each valid layout's memory
// with the memory model, bound its step time from below (step_bound.hpp), then simulate the
// survivors with the symmetric step simulation, in parallel, in order of their bound, until no
// candidate left can enter the top K. The answer is the same with one thread or many and in every
// shard split: rounds have a fixed size, ties break on the candidate's index.
//
// Ranked by throughput or by facility energy per token (the step simulated again with a trace, its
// power from sim::step_power). For energy the bound is on energy per token: every GPU draws at least
// its least state draw over the step-time bound, plus what its kernels add above that at the
// compute cost model's durations, plus servers and switches, x PUE (docs/models/planner.md).
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/power/step_power.hpp"
#include "herd/sim/plan/search_space.hpp"
#include "herd/sim/plan/step_bound.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::sim::plan {

/// What a search ranks by: tokens/s (more first) or facility energy per token (less first).
enum class Ranking { throughput, energy };

/// How to search (what to search: model::SearchSpace, with the top K, the memory headroom and the
/// power budget).
struct PlannerOptions {
  Ranking rank_by = Ranking::throughput;
  /// Power of every simulated layout (each simulated a second time, traced); otherwise only the top
  /// K ranked get it. Ranking by energy and a power budget imply it.
  bool power_all = false;
  bool prune = true;             ///< skip layouts whose bound cannot enter the top K
  /// Layouts whose bound allows at least this score are simulated (and, ranking by energy, get
  /// their power) even when they cannot enter the top K: explaining a layout ranks it exactly
  /// among everything better. The score is the ranking's: tokens/s, or minus the facility energy
  /// per token (J) ranking by energy.
  double simulate_above_score = HUGE_VAL;
  int shard = 0, shards = 1;     ///< evaluate the candidates whose index is shard modulo shards
  int threads = 0;               ///< 0: every core oneTBB sees
  const model::CalibrationProfile* calibration = nullptr;
};

/// What the search knows of one layout.
struct Evaluation {
  Candidate candidate;
  double tokens_per_step = 0;
  double bound_s = 0;            ///< lower bound on the step time (step_bound.hpp)
  double memory_peak_bytes = 0;  ///< the largest stage's total
  int memory_stage = 0;
  double memory_capacity_bytes = 0;
  bool fits = false;             ///< peak within capacity x (1 - headroom)
  bool simulated = false;
  /// Of the simulated step: its ranks and the steady-state periods replicated (0: none, or not
  /// simulated here; a result read back from a shard has neither).
  int simulated_ranks = 0;
  std::uint64_t replicated_periods = 0;
  double step_time_s = 0, tokens_per_s = 0, tflops_per_gpu = 0, mfu = 0;
  int critical_stage = 0;
  StepBreakdown breakdown;
  std::string bottleneck;
  // Power (docs/models/power.md). The bound's two parts, facility: the least power any step of the
  // layout draws (every GPU at its least draw, servers, switches) and the energy its kernels add
  // above that draw at least (0, 0: not bounded).
  double least_power_w = 0;
  double kernel_energy_j = 0;
  bool has_power = false;         ///< the step was simulated again, traced, for its power
  double energy_per_token_j = 0;  ///< facility
  double peak_power_w = 0;        ///< facility: the highest window of IT power x PUE
  double mean_power_w = 0;        ///< facility, over the step
  bool over_power_budget = false;
  /// Lower bound on the facility energy per token, from bound_s and the parts above.
  double energy_bound_j() const;
};

struct SearchCounts {
  std::int64_t combinations = 0;
  std::array<std::int64_t, kInvalidReasons> invalid{};
  std::int64_t valid = 0;          ///< layouts of this shard that passed every check
  std::int64_t out_of_memory = 0;
  /// Fit, but their peak is above the power budget (simulated, or ruled out by their least power).
  std::int64_t over_power_budget = 0;
  std::int64_t pruned = 0;         ///< fit, but their bound could not enter the top K
  /// Simulated and ranked: valid = out_of_memory + over_power_budget + pruned + simulated.
  std::int64_t simulated = 0;
  std::int64_t invalid_total() const;
};

struct SearchResult {
  SearchCounts counts;
  Ranking rank_by = Ranking::throughput;
  /// Every simulated layout within the power budget, best first (tokens/s or energy per token,
  /// then the candidate's index).
  std::vector<Evaluation> ranked;
  /// The layouts that came closest to fitting (least memory over the limit first), up to K: what to
  /// show when nothing fits.
  std::vector<Evaluation> closest_out_of_memory;
  int shard = 0, shards = 1;
  int top = 10;
};

/// Best-first order of two evaluated layouts: more tokens/s (or less energy per token), then the
/// lower index.
bool ranks_before(const Evaluation& a, const Evaluation& b, Ranking by = Ranking::throughput);

/// Memory and bound of one candidate (`base` gives model, cluster and the plan keys the search
/// does not vary); no simulation.
Evaluation screen(const model::Scenario& base, const Candidate& c, double memory_headroom, const StepBound& bound);

/// Fills the simulated fields of `e` from one symmetric step simulation. Aborts (invariant
/// failure) when the simulated step is faster than the bound, which would make pruning unsound.
void simulate_candidate(const model::Scenario& base, Evaluation& e, const StepSimulator& simulator,
                        const model::CalibrationProfile* calibration, const Control& control);

/// The power setup of `base`'s cluster with `num_gpus` GPUs in the job (switches counted on the
/// simulator's fabric), with the scenario's power cap and floor.
PowerSetup layout_power_setup(const model::Scenario& base, int num_gpus, const StepSimulator& simulator);

/// Fills the power bound of `e` (least_power_w, kernel_energy_j); `setup` for its GPU count.
void bound_energy(Evaluation& e, const PowerSetup& setup, const StepBound& bound);

/// Simulates `e`'s step again with a trace and fills its power. Aborts (invariant failure) when
/// the energy per token is below the energy bound of a bounded `e`.
void measure_power(const model::Scenario& base, Evaluation& e, const StepSimulator& simulator,
                   const model::CalibrationProfile* calibration, const PowerSetup& setup, const Control& control);

/// The scenario `base` with candidate `c`'s layout (and GPU count) in its typed fields only; the
/// resolved document is left out (use layout_overrides for a complete scenario).
model::Scenario candidate_scenario(const model::Scenario& base, const Candidate& c);

/// Calls f(0) .. f(n - 1) in parallel on `threads` threads (0: every core oneTBB sees).
void for_each_index(int threads, std::size_t n, const std::function<void(std::size_t)>& f);

/// Runs the search. Reports progress as ("screening", done, total) then ("simulating", done,
/// estimate), throws Cancelled when `control` asks to stop.
SearchResult search_layouts(const model::Scenario& s, const SearchSpace& space, const PlannerOptions& options,
                            const StepSimulator& simulator, const Control& control = {});

/// Joins shard results into the ranking one search over the whole space gives: counts add up,
/// the ranked lists merge. Throws model::ValueError when the shards do not make up one whole
/// (missing, repeated, or of different splits or K).
SearchResult merge_shards(std::vector<SearchResult> shards);

}  // namespace herd::sim::plan
