#pragma once
// The layout search: enumerate the space (search_space.hpp), screen each valid layout's memory
// with the memory model, bound its step time from below (step_bound.hpp), then simulate the
// survivors with the symmetric step simulation, in parallel, in order of their bound, until no
// candidate left can enter the top K. The answer is the same with one thread or many and in every
// shard split: rounds have a fixed size, ties break on the candidate's index.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/plan/search_space.hpp"
#include "herd/sim/plan/step_bound.hpp"
#include "herd/sim/step/step_report.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::sim::plan {

/// How to search (what to search: model::SearchSpace, with the top K and the memory headroom).
struct PlannerOptions {
  bool prune = true;             ///< skip layouts whose bound cannot enter the top K
  /// Layouts whose bound allows at least this many tokens/s are simulated even when they cannot
  /// enter the top K (explaining a layout ranks it exactly among everything faster).
  double simulate_above_tokens_per_s = HUGE_VAL;
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
  double step_time_s = 0, tokens_per_s = 0, tflops_per_gpu = 0, mfu = 0;
  int critical_stage = 0;
  StepBreakdown breakdown;
  std::string bottleneck;
};

struct SearchCounts {
  std::int64_t combinations = 0;
  std::array<std::int64_t, kInvalidReasons> invalid{};
  std::int64_t valid = 0;          ///< layouts of this shard that passed every check
  std::int64_t out_of_memory = 0;
  std::int64_t pruned = 0;         ///< fit, but their bound could not enter the top K
  std::int64_t simulated = 0;
  std::int64_t invalid_total() const;
};

struct SearchResult {
  SearchCounts counts;
  /// Every simulated layout, best first (tokens/s, then the candidate's index).
  std::vector<Evaluation> ranked;
  /// The layouts that came closest to fitting (least memory over the limit first), up to K: what to
  /// show when nothing fits.
  std::vector<Evaluation> closest_out_of_memory;
  int shard = 0, shards = 1;
  int top = 10;
};

/// Best-first order of two evaluated layouts: more tokens/s, then the lower index.
bool ranks_before(const Evaluation& a, const Evaluation& b);

/// Memory and bound of one candidate (`base` gives model, cluster and the plan keys the search
/// does not vary); no simulation.
Evaluation screen(const model::Scenario& base, const Candidate& c, double memory_headroom, const StepBound& bound);

/// Fills the simulated fields of `e` from one symmetric step simulation. Aborts (invariant
/// failure) when the simulated step is faster than the bound, which would make pruning unsound.
void simulate_candidate(const model::Scenario& base, Evaluation& e, const StepSimulator& simulator,
                        const model::CalibrationProfile* calibration, const Control& control);

/// The scenario `base` with candidate `c`'s layout (and GPU count) in its typed fields only; the
/// resolved document is left out (use layout_overrides for a complete scenario).
model::Scenario candidate_scenario(const model::Scenario& base, const Candidate& c);

/// Runs the search. Reports progress as ("screening", done, total) then ("simulating", done,
/// estimate), throws Cancelled when `control` asks to stop.
SearchResult search_layouts(const model::Scenario& s, const SearchSpace& space, const PlannerOptions& options,
                            const StepSimulator& simulator, const Control& control = {});

/// Joins shard results into the ranking one search over the whole space gives: counts add up,
/// the ranked lists merge. Throws model::ValueError when the shards do not make up one whole
/// (missing, repeated, or of different splits or K).
SearchResult merge_shards(std::vector<SearchResult> shards);

}  // namespace herd::sim::plan
