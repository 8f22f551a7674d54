#pragma once
// Bytes per GPU for each pipeline stage: weights, gradients, optimizer states, activations kept for
// backward (times the micro-batches the schedule holds at once), communication buffers, transient
// peaks and the runtime. Equations and sources in docs/models/memory.md.
#include <cstdint>
#include <string>
#include <vector>

#include "herd/model/scenario.hpp"

namespace herd::model {

/// Activation bytes one transformer layer keeps for backward, per micro-batch, on one GPU, split by
/// what keeps them (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
/// Transformer Models", section 4, extended to GQA, SwiGLU, fused attention and CP).
struct LayerActivations {
  double norms = 0;          ///< inputs of the two norms (the residual stream)
  double gemm_inputs = 0;    ///< inputs of QKV and fc1 (norm outputs), out-projection and fc2
  double attention = 0;      ///< Q, K, V (gathered K/V under CP all-gather), softmax statistics
  double scores = 0;         ///< unfused attention only: softmax output, its dropout mask and output
  double mlp_activation = 0; ///< the MLP activation's input (SwiGLU: gate and up; GeLU, squared ReLU: fc1 output)
  double dropout_masks = 0;  ///< residual-branch dropout masks (1 byte per element)
  double total() const { return norms + gemm_inputs + attention + scores + mlp_activation + dropout_masks; }
};

LayerActivations layer_activations(const TransformerSpec& m, const PlanSpec& p, std::int64_t seq_len);

/// Parameters one GPU holds after TP (before DP sharding): per layer, for the embedding, and for
/// the output projection with the final norm.
struct ShardParameters {
  double layer = 0;
  double embedding = 0;
  double output = 0;
};
ShardParameters shard_parameters(const TransformerSpec& m, const PlanSpec& p);

struct StageMemory {
  int stage = 0;                ///< pipeline rank
  int layers = 0;
  bool embedding = false, output = false;
  double parameters = 0;        ///< parameters on one GPU of this stage after TP (before DP sharding)
  double weights = 0;           ///< bytes
  double gradients = 0;
  double optimizer = 0;
  double activations = 0;       ///< kept for backward at the schedule's peak
  double communication = 0;     ///< NCCL buffers, DP/FSDP gather and reduce buffers
  double transient = 0;         ///< largest short-lived tensor set (logits, gathered inputs, recompute)
  double runtime = 0;           ///< CUDA context and library workspaces
  double inflight_microbatches = 0;  ///< activations held at the peak, in micro-batches of this stage
  double total() const { return weights + gradients + optimizer + activations + communication + transient + runtime; }
};

struct MemoryReport {
  std::vector<StageMemory> stages;
  double capacity_bytes = 0;
  int largest_stage = 0;
  bool fits = false;
  double per_layer_activation_bytes = 0;  ///< one layer, one micro-batch
};

MemoryReport analyse_memory(const Scenario& s);

/// Documented constants of the memory model.
struct MemoryConstants {
  static constexpr double cuda_context = 600.0 * (1 << 20);     ///< CUDA 12 context + kernels on H100, ~600 MiB
  static constexpr double cublas_workspace = 64.0 * (1 << 20);  ///< cuBLAS/cuBLASLt workspaces, a few streams
  static constexpr double nccl_buffer = 4.0 * (1 << 20);        ///< NCCL_BUFFSIZE default, per channel per peer
  static constexpr int nccl_channels = 16;                      ///< channels a communicator opens (order of)
};

}  // namespace herd::model
