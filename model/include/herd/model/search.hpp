#pragma once
// What a layout search may vary (the scenario's `search` section, or a planner's flags): lists of
// values per plan key and, optionally, GPU counts and global batches. An empty list means "the
// planner's default" (sim::plan::complete_space says which).
#include <array>
#include <cstdint>
#include <vector>

#include "herd/model/plan.hpp"

namespace herd::model {

struct SearchSpace {
  std::vector<int> num_gpus;                 ///< default: the scenario's cluster
  std::vector<std::int64_t> global_batch;    ///< sequences per step; default: the scenario's
  std::vector<int> tp;                       ///< default: divisors of the GPUs per node
  std::vector<int> cp;                       ///< default: 1, 2, 4, 8, 16 while seq_len / cp >= 2048
  std::vector<int> pp;                       ///< default: 1 .. layers + 2 (those that divide the GPUs)
  std::vector<int> virtual_stages;           ///< default: 1 .. 16
  std::vector<LayerLayout> layer_layouts;    ///< default: uniform, llama3
  std::vector<Schedule> schedules;           ///< default: 1f1b, interleaved, llama3, zero_bubble
  std::vector<int> round_size;               ///< llama3's N; 0 means pp. Default: 0
  std::vector<int> micro_batch;              ///< default: 1, 2, 4
  std::vector<DpSharding> dp_sharding;       ///< default: none (DDP), zero1, fsdp, zero3
  std::vector<Recompute> recompute;          ///< default: none, selective, full
  std::vector<int> tp_comm_overlap;          ///< 0/1; default: 0, 1
  std::vector<std::array<Axis, 4>> rank_orders;  ///< default: the scenario's
  double memory_headroom = 0;                ///< fraction of GPU memory a layout must leave free
  int top = 10;                              ///< layouts ranked exactly
  /// Facility watts a layout's peak may reach (peak 100 ms window of IT power x PUE); layouts
  /// above it are dropped. 0: no budget.
  double power_budget_w = 0;
};

}  // namespace herd::model
