#pragma once
// The CPU measurement backend: the reference layer's kernels (FP32, oneTBB) timed op by op and
// as a whole layer, so the pipeline measure -> fit -> profile -> prediction runs without a GPU.
//
// Its peaks are measured by the backend itself when it starts (a CPU has no datasheet figure that
// this code could trust): peak_flops is the best of `probe_runs` FP32 products of size
// peak_gemm_size^3 through the backend's own GEMM, and memory_bandwidth the best of
// `probe_runs` copies moving bandwidth_probe_bytes (read + written). Efficiencies of a CPU profile
// are therefore fractions of what this code reaches on a cache-friendly square product and a
// streaming copy, not of a hardware limit.
#include <cstdint>

#include "herd/calibrate/backend.hpp"

namespace herd::calibrate {

struct CpuBackendOptions {
  std::int64_t peak_gemm_size = 512;
  double bandwidth_probe_bytes = 64.0 * (1 << 20);
  int probe_runs = 5;
  std::uint64_t seed = 1;  ///< operands are filled from it, so runs see the same data
};

class CpuBackend : public MeasurementBackend {
 public:
  /// Measures the peaks (a fraction of a second at the default sizes).
  explicit CpuBackend(const CpuBackendOptions& options = {});
  DeviceInfo device() override;
  void measure(Record& r, const TimingPolicy& policy) override;

 private:
  CpuBackendOptions options_;
  double peak_flops_ = 0, bandwidth_ = 0;
};

}  // namespace herd::calibrate
