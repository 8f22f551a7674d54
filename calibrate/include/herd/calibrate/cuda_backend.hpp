#pragma once
// The CUDA backend (built when CUDA is found; herd::calibrate_cuda): the same layer as the CPU
// reference in BF16 (FP32 accumulation) on one GPU — cuBLASLt GEMMs, Herd's own causal GQA
// flash-attention kernels (tensor cores through WMMA), Herd's own element-wise kernels — each op
// timed alone with CUDA events, and NCCL collectives over all local GPUs from one process.
//
// Peaks: when the device name matches a GPU preset, that preset's datasheet figures (H100 SXM:
// 989 TFLOP/s dense BF16, 3.35 TB/s), so a profile's efficiencies mean what the presets' mean.
// Otherwise peak_flops = SMs x dense BF16 tensor-core FLOP per clock per SM (sm_80: 2048,
// sm_89: 1024, sm_90: 4096, sm_100: 8192; NVIDIA architecture whitepapers) x the maximum SM clock,
// and memory_bandwidth = 2 x memory clock x bus width (double data rate). Both figures are recorded.
#include <iosfwd>
#include <memory>

#include "herd/calibrate/backend.hpp"
#include "herd/calibrate/self_test.hpp"

namespace herd::calibrate::cuda {

struct CudaOptions {
  int device = 0;
};

/// CUDA devices visible (0 when there is no driver or no GPU).
int device_count();

/// Throws std::runtime_error (with the CUDA error text) when the device cannot be used.
std::unique_ptr<MeasurementBackend> make_backend(const CudaOptions& options);

/// Runs attention alone, then the layer forward and backward, at `dims` in BF16 on the GPU and
/// compares outputs, input gradients and every weight gradient with the CPU reference computed in
/// double precision from the same (BF16-rounded) inputs: error = ||gpu - cpu|| / ||cpu||, tolerance
/// 3e-2 for outputs and 5e-2 for gradients (BF16 keeps 8 significant bits and activations are
/// stored in it). head_dim must be 64 or 128. Throws std::runtime_error on a CUDA error.
std::vector<Check> self_test(int device, const LayerDims& dims);

struct NcclSweepOptions {
  double min_bytes = 8;
  double max_bytes = 8.0 * (1ULL << 30);
  int warmup = 5;
  int iterations = 20;
};

/// all_reduce, all_gather, reduce_scatter, broadcast and send/recv (ring: rank i sends to i + 1)
/// over every power-of-two size in [min_bytes, max_bytes] (capped by free memory), on all local
/// GPUs driven from one process, timed as nccl-tests times them (wall clock over `iterations`
/// back-to-back calls after `warmup`). With fewer than two GPUs nothing is measured and the set's
/// notes say so. Progress goes to `progress`.
MeasurementSet nccl_sweep(const NcclSweepOptions& options, std::ostream& progress);

}  // namespace herd::calibrate::cuda
