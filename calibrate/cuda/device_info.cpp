#include "device_info.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "cuda_common.hpp"
#include "gemm.hpp"
#include "herd/calibrate/backend.hpp"
#include "herd/calibrate/fit.hpp"

namespace herd::calibrate::cuda {

namespace {

int attribute(cudaDeviceAttr a, int device) {
  int v = 0;
  check(cudaDeviceGetAttribute(&v, a, device), "cudaDeviceGetAttribute");
  return v;
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// nvidia-smi's view of the clocks and power limit right now; "" when it is not installed.
std::string smi_clocks(int device) {
  const std::string cmd = "nvidia-smi --query-gpu=clocks.sm,clocks.mem,clocks.max.sm,clocks.applications.graphics,"
                          "power.limit,temperature.gpu,driver_version --format=csv,noheader -i " +
                          std::to_string(device) + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
  if (!pipe) return "";
  char buf[512] = {};
  const std::size_t got = std::fread(buf, 1, sizeof buf - 1, pipe.get());
  std::string out(buf, got);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

}  // namespace

int bf16_flops_per_clock_per_sm(int major, int minor) {
  // NVIDIA A100, H100 and Blackwell whitepapers (dense, FP32 accumulation): A100 108 SMs x 2048 x
  // 1.41 GHz = 312 TFLOP/s; L40S 142 x 1024 x 2.52 GHz = 366; H100 SXM 132 x 4096 x 1.83 GHz = 989.
  if (major == 8 && minor == 0) return 2048;
  if (major == 8) return 1024;
  if (major == 9) return 4096;
  if (major == 10) return 8192;
  return 0;
}

DeviceInfo describe_device(int device) {
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  DeviceInfo d;
  d.backend = "cuda";
  d.name = prop.name;
  d.parallel_units = prop.multiProcessorCount;
  const double sm_clock = attribute(cudaDevAttrClockRate, device) * 1e3;        // kHz -> Hz
  const double mem_clock = attribute(cudaDevAttrMemoryClockRate, device) * 1e3;  // kHz -> Hz
  const double bus_bits = attribute(cudaDevAttrGlobalMemoryBusWidth, device);
  const int per_clock = bf16_flops_per_clock_per_sm(prop.major, prop.minor);
  const double formula_peak = double(prop.multiProcessorCount) * per_clock * sm_clock;
  const double formula_bandwidth = 2.0 * mem_clock * bus_bits / 8;
  if (const auto preset = matching_gpu_preset(d.name)) {
    d.peak_flops = preset->peak_bf16_flops;
    d.peak_source = "GPU preset " + preset->name + " (" + preset->source + ")";
    d.memory_bandwidth = preset->hbm_bandwidth;
    d.bandwidth_source = d.peak_source;
  } else {
    d.peak_flops = formula_peak;
    d.peak_source = std::to_string(prop.multiProcessorCount) + " SMs x " + std::to_string(per_clock) +
                    " dense BF16 FLOP/clock/SM x " + std::to_string(sm_clock / 1e9) + " GHz maximum SM clock";
    d.memory_bandwidth = formula_bandwidth;
    d.bandwidth_source = "2 x " + std::to_string(mem_clock / 1e9) + " GHz memory clock x " + std::to_string(int(bus_bits)) + "-bit bus";
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  d.details = {{"date", utc_now()},
               {"device_index", device},
               {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
               {"memory_bytes", static_cast<double>(prop.totalGlobalMem)},
               {"max_sm_clock_hz", sm_clock},
               {"memory_clock_hz", mem_clock},
               {"memory_bus_bits", bus_bits},
               {"formula_peak_flops", formula_peak},
               {"formula_memory_bandwidth", formula_bandwidth},
               {"cuda_driver_api", version_text(driver)},
               {"cuda_runtime", version_text(runtime)},
               {"cublaslt", Gemm::version()},
               {"nvidia_driver", first_line("/proc/driver/nvidia/version")},
               {"clocks_now", smi_clocks(device)}};
  return d;
}

}  // namespace herd::calibrate::cuda
