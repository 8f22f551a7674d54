#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"search.num_gpus", integer_list, "[]", "GPU counts `herd plan` tries (time-to-train and GPU-hours of each, their Pareto front); empty: the cluster's.", D::count, at_least_one},
    {"search.global_batch", integer_list, "[]", "Global batches (sequences per step) to try; empty: the plan's.", D::count, at_least_one},
    {"search.tp", integer_list, "[]", "TP degrees to try; empty: every divisor of the GPUs per node.", D::count, at_least_one},
    {"search.cp", integer_list, "[]", "CP degrees to try; empty: 1, 2, 4, 8, 16 while each rank keeps at least 2,048 tokens of the sequence.", D::count, at_least_one},
    {"search.pp", integer_list, "[]", "PP degrees to try; empty: every one up to layers + 2 that divides a GPU count.", D::count, at_least_one},
    {"search.virtual_stages", integer_list, "[]", "Virtual stages per pipeline rank to try; empty: 1 to 16.", D::count, at_least_one},
    {"search.layer_layout", string_list, "[]", "Layer layouts to try; empty: both.", D::count, any, "uniform|llama3"},
    {"search.schedule", string_list, "[]", "Pipeline schedules to try; empty: 1f1b, interleaved, llama3, zero_bubble.", D::count, any, "gpipe|1f1b|interleaved|llama3|zero_bubble"},
    {"search.round_size", integer_list, "[]", "The llama3 schedule's N to try (0: pp); empty: 0.", D::count, non_negative},
    {"search.micro_batch", integer_list, "[]", "Micro-batch sizes (sequences) to try; empty: 1, 2, 4.", D::count, at_least_one},
    {"search.dp_sharding", string_list, "[]", "Data-parallel modes to try; empty: all four.", D::count, any, "none|zero1|fsdp|zero3"},
    {"search.recompute", string_list, "[]", "Recomputation to try; empty: none, selective and full (op only when listed).", D::count, any, "none|selective|full|op"},
    {"search.tp_comm_overlap", integer_list, "[]", "TP communication overlap off (0) and/or on (1); empty: both.", D::count, non_negative},
    {"search.rank_order", string_list, "[]", "Rank orders to try, innermost first, each as \"tp-cp-pp-dp\"; empty: the plan's."},
    {"search.memory_headroom", number, "0", "Fraction of GPU memory a layout must leave free (0.05: fit in 95 %).", D::count, fraction},
    {"search.top", integer, "10", "Layouts `herd plan` ranks exactly and shows.", D::count, at_least_one},
    {"search.power_budget", quantity, "null", "Facility power a layout may draw at its peak (the highest 100 ms window of the step's IT power x PUE, docs/models/power.md), e.g. \"25 MW\"; layouts above it are dropped, counted as over the power budget. null: no budget.", D::power, positive},
};
}  // namespace

std::span<const ParamDecl> search() { return kParams; }

}  // namespace herd::model::schema
