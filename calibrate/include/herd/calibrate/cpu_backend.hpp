#pragma once
// The CPU measurement backend: the reference layer's kernels (FP32, oneTBB) timed op by op and
// as a whole layer, so the pipeline measure -> fit -> profile -> prediction runs without a GPU.
//
// Its peaks are measured by the backend itself (a CPU has no datasheet figure this code could
// trust): peak_flops is the best FP32 throughput its own GEMM reaches in the run (`probe_runs`
// products of size peak_gemm_size^3 at start-up, then every GEMM measured), memory_bandwidth the
// best copy throughput (bytes read + written; `probe_runs` copies of bandwidth_probe_bytes, then
// every copy measured). Efficiencies of a CPU profile are therefore fractions of the best this
// code reached on that machine, never above 1, not fractions of a hardware limit.
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
