#pragma once
// `herd plan`: search the parallel layouts of a scenario, rank them, and explain one. The search
// itself is sim::plan::search_layouts (which also ranks by energy per token and keeps a power
// budget); this use case adds what a user asks of it: objectives beyond one step (time-to-train
// and GPU-hours through the run model, the Pareto front across GPU counts), how robust the winner is to
// the uncertain inputs, an explanation of one layout, and shards of a search joined back into one
// ranking.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/app/scenario_loading.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/search.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/plan/planner.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::app {

/// What the ranking orders by: tokens/s of one step, facility energy per token of one step, or the
/// run's time-to-train or GPU-hours.
enum class Objective { throughput, time_to_train, gpu_hours, energy };
std::string_view to_string(Objective);
/// "throughput", "time-to-train", "gpu-hours" or "energy"; throws model::InputError (source "--objective").
Objective parse_objective(std::string_view text);
/// A facility power budget: "25 MW", "900 kW", "2.5e7" (watts), above 0. Throws model::InputError
/// (source "--power-budget").
double parse_power_budget(std::string_view text);

struct PlanRequest {
  model::Scenario scenario;
  /// What to search; empty lists take the scenario's `search` section, then the planner's defaults.
  model::SearchSpace space;
  sim::plan::PlannerOptions options;
  Objective objective = Objective::throughput;
  /// Layouts (per GPU count, by throughput) whose run is simulated for the time-to-train and
  /// GPU-hours objectives and the Pareto front.
  int run_candidates = 8;
  int run_trials = 200;        ///< Monte Carlo trials per run estimate (seed: the scenario's run.seed)
  bool robustness = true;      ///< re-rank the top layouts under the uncertain inputs moved
  /// A layout to explain (sim::plan::parse_layout text, over the scenario's plan); "" explains the
  /// scenario's own plan. Absent: no explanation.
  std::optional<std::string> explain;
  std::string calibration_file;  ///< empty: the scenario's `calibration` key, if any
  const sim::StepSimulator* simulator = nullptr;  ///< null: a platform of this call's own
};

/// A layout's run: time-to-train and GPU-hours (run model, Monte Carlo).
struct RunEstimate {
  std::int64_t index = 0;      ///< the candidate's index
  std::string layout;          ///< layout id
  int num_gpus = 0;
  double step_time_s = 0;
  double time_to_train_s = 0;  ///< mean over trials
  double p10_s = 0, p90_s = 0;
  double gpu_hours = 0;        ///< mean time-to-train x GPUs
  bool pareto = false;         ///< on the front of time-to-train against GPU-hours
};

/// One uncertain input moved, and where the top layouts then rank.
struct Perturbation {
  std::string what;                  ///< "GPU sustained speed -10 %"
  std::vector<std::int64_t> order;   ///< the top layouts' indices, best first, under it (within the power budget)
  /// With a power budget: the top layouts whose peak passes it under the move (out of `order`).
  std::vector<std::int64_t> over_power_budget;
  bool winner_holds = true;          ///< the unperturbed winner is still first (and within the budget)
};

struct Robustness {
  std::vector<Perturbation> perturbations;
  bool winner_robust = true;         ///< first under every perturbation
};

/// Why a layout ranks where it does.
struct Explanation {
  sim::plan::Evaluation layout;
  std::string id;
  std::string invalid;               ///< why it is not a layout at all ("" when it is one)
  /// Ranked as the search ranks: by energy per token under Objective::energy, by tokens/s otherwise.
  bool by_energy = false;
  int rank = 0;                      ///< 1 = best; 0 when it was not simulated (invalid, out of memory)
  bool rank_exact = true;            ///< false: layouts beyond the search's top K may be missing above it
  /// Fraction behind the best: more time per token (0.05: 5 %), or more energy per token by energy.
  double behind_best = 0;
  std::vector<std::string> limits;   ///< what limits it, largest first, in words
  struct Change {
    std::string what;                ///< "pp 16 -> 8"
    std::string id;
    double tokens_per_s = 0;
    double energy_per_token_j = 0;   ///< by energy: its facility energy per token
    /// Fraction better than the explained layout: more tokens/s, or by energy less energy per
    /// token (0.05: the explained layout uses 5 % more).
    double gain = 0;
    bool fits = true;
  };
  std::vector<Change> changes;       ///< single-key changes that help most, best first (at most 2)
};

struct PlanResult {
  std::string scenario;
  model::SearchSpace space;          ///< completed: every list filled
  sim::plan::SearchResult search;
  Objective objective = Objective::throughput;
  std::vector<RunEstimate> runs;     ///< when the objective or the GPU counts call for runs; best first
  std::optional<Robustness> robustness;
  std::optional<Explanation> explanation;
  ComputeLevel level;                ///< the compute level every simulation used, and where it came from
  /// The scenario searched, resolved (model::Scenario::resolved): a saved result opens its layouts
  /// without the scenario's file.
  nlohmann::json resolved_scenario;
};

/// The search, the objective's ranking, robustness and the explanation. Progress and stop through
/// `control`. Throws model::InputError for a bad space or layout, or a step whose simulated time
/// passes 64-bit nanoseconds (time_overflow), sim::Cancelled on stop.
PlanResult plan(const PlanRequest& request, const sim::Control& control = {});

/// The `herd plan --json` object (schema in docs/cli.md); also the partial result a shard writes.
nlohmann::json to_json(const PlanResult& result);
/// One row per simulated layout (the ranking), with a header.
std::string to_csv(const PlanResult& result);

/// Joins the JSON of every shard of one search (`herd plan --shard i/N` outputs) into the result
/// one search over the whole space gives. `scenario` must be the one the shards searched. Throws
/// model::InputError naming the file when a part is not a shard of this search.
PlanResult merge(const model::Scenario& scenario, const std::vector<std::pair<std::string, nlohmann::json>>& files);

/// A `herd plan --json` result read back (herd-gui's plan explorer): the ranking and counts as
/// merge() reads them, and the scenario searched, from the result's "resolved_scenario".
struct SavedPlan {
  PlanResult result;
  model::Scenario scenario;
};
/// Whether `doc` looks like a `herd plan --json` result (an object with "ranked", "counts", "space").
bool is_saved_plan(const nlohmann::json& doc);
/// Throws model::InputError naming `source` and the JSON pointer.
SavedPlan read_saved_plan(const nlohmann::json& doc, const std::string& source);

/// Fills `space`'s list `key` ("tp", "cp", "pp", "v", "mb", "n", "gpus", "batch", "schedule",
/// "layout", "dp-mode", "recompute", "overlap", "order") from text: "1,2,4,8", a range "8:64"
/// (powers of two between) or names ("1f1b,llama3"). Throws model::InputError (source "--KEY").
void set_space_list(model::SearchSpace& space, std::string_view key, std::string_view text);

}  // namespace herd::app
