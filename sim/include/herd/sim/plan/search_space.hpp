#pragma once
// The layouts a planner may try: lists of values per plan key (TP, CP, PP, virtual stages, layer
// layout, schedule, Llama 3's N, micro-batch, data-parallel mode, recomputation, TP overlap, rank
// order) and, optionally, of GPU counts and global batches. Enumeration walks their product in one
// fixed order and drops the impossible combinations, counted by reason, so that a candidate's
// index names it on every machine and in every shard.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "herd/model/plan.hpp"
#include "herd/model/scenario.hpp"
#include "herd/model/search.hpp"

namespace herd::sim::plan {

using model::SearchSpace;

/// `space` with every empty list filled from `s` and the defaults above.
SearchSpace complete_space(const model::Scenario& s, SearchSpace space = {});

/// Why a combination of values is not a layout. Counted, never an error.
enum class Invalid {
  gpu_count,        ///< tp x cp x pp does not divide the GPUs, or the GPUs do not fill whole nodes
  tensor_parallel,  ///< TP beyond a node, or not dividing the heads, key/value heads or MLP width
  context_parallel, ///< the sequence cannot be cut into 2 x CP chunks (or SP's TP slices)
  layer_split,      ///< the layers cannot be split over PP x V with this layer layout
  schedule,         ///< V > 1 without an interleaved schedule; interleaved with V = 1 (that is 1F1B)
  batch_split,      ///< the global batch is not a whole number of micro-batches per pipeline, or
                    ///< not of the schedule's rounds
  redundant,        ///< the same layout as another combination (TP overlap at TP 1, N on other
                    ///< schedules, a DP mode without data parallelism)
  other,            ///< rejected by the plan's own checks (model::validate_plan)
};
inline constexpr int kInvalidReasons = 8;
std::string_view to_string(Invalid);
/// Plain words for a report: "TP does not divide the heads or exceeds a node", ...
std::string_view describe(Invalid);

/// One layout to evaluate: the plan (dp, global batch and derived keys set) and its GPU count.
struct Candidate {
  std::int64_t index = 0;  ///< position in the enumeration order (stable across machines)
  model::PlanSpec plan;
  int num_gpus = 0;
};

struct Enumeration {
  std::vector<Candidate> candidates;
  std::int64_t combinations = 0;  ///< the size of the product of the lists
  std::array<std::int64_t, kInvalidReasons> invalid{};
  std::int64_t invalid_total() const;
};

/// Every valid layout of `space` (complete it first) for the scenario's model, in a fixed order.
/// Combinations rejected high in the product (e.g. a TP that does not divide the heads) are
/// counted with every combination below them. `shard`/`shards`: keep only candidates whose index
/// is `shard` modulo `shards`.
Enumeration enumerate_layouts(const model::Scenario& s, const SearchSpace& space, int shard = 0, int shards = 1);

/// The plan with the keys Herd derives from others filled as a scenario would: dp from the GPUs,
/// sequence parallelism with TP, the gradient sync from the DP mode, N = pp when 0.
void derive_plan(model::PlanSpec& p, int num_gpus);

/// A layout's name, in Megatron-LM's vocabulary and parseable by parse_layout:
/// "tp=8,cp=1,pp=16,v=8,layout=llama3,schedule=llama3,n=16,mb=1,dp=128,dp_mode=fsdp,recompute=none,
/// overlap=0,order=tp-cp-pp-dp,gpus=16384,batch=2048".
std::string layout_id(const model::PlanSpec& p, int num_gpus);
/// A rank order as layout ids write it: "tp-cp-pp-dp" (innermost first).
std::string rank_order_text(const std::array<model::Axis, 4>& order);
/// A short form for tables: "TP8 CP1 PP16 V8 DP128 mb1 llama3/fsdp".
std::string layout_label(const model::PlanSpec& p);

/// Applies a layout written as comma-separated key=value pairs (the keys of layout_id; any subset)
/// to `p` and `num_gpus`, then derives the rest. Throws model::ValueError naming the key.
void parse_layout(std::string_view text, model::PlanSpec& p, int& num_gpus);

/// The scenario's dotted overrides ({"plan.tp": 8, ...}) that give this layout, for
/// model::with_overrides (a full scenario: run phases, reports).
nlohmann::json layout_overrides(const model::PlanSpec& p, int num_gpus);

}  // namespace herd::sim::plan
