#pragma once
// Pipeline structure: which layers each model chunk holds, and the order in which each pipeline
// rank runs forward (F), backward (B) and, for zero-bubble, weight-gradient (W) work.
#include <cstdint>
#include <vector>

#include "herd/model/architecture.hpp"
#include "herd/model/plan.hpp"

namespace herd::model {

/// One model chunk (virtual stage). Rank r holds chunks r, r + pp, r + 2 pp, ... (Megatron-LM).
struct Chunk {
  int index = 0;          ///< 0 .. pp * V - 1, in model order
  int rank = 0;           ///< pipeline rank that holds it
  int virtual_index = 0;  ///< 0 .. V - 1 on that rank
  int first_layer = 0;
  int layers = 0;
  bool embedding = false;
  bool output = false;    ///< final norm, output projection and loss
};

/// All pp * V chunks in model order. The plan must have passed validate_plan.
std::vector<Chunk> layout_chunks(const TransformerSpec& m, const PlanSpec& p);

enum class Work { forward, backward, weight_grad };

struct ScheduledWork {
  Work work;
  int virtual_index;  ///< chunk on this rank, 0 .. V - 1
  int microbatch;
};

/// The order in which pipeline rank `rank` runs its work for one step (M micro-batches). With the
/// zero-bubble schedule, backward is split into B (input gradient) and W (weight gradient).
std::vector<ScheduledWork> pipeline_order(const PlanSpec& p, int rank);

/// Largest number of micro-batch activations (counted per chunk) held at once by `rank`, given the
/// bytes each of its chunks keeps per micro-batch; the maximum over the order of the running sum.
double peak_stashed_bytes(const std::vector<ScheduledWork>& order, const std::vector<double>& bytes_per_chunk,
                          bool split_backward);

}  // namespace herd::model
