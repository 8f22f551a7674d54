#pragma once
// Raw measurements: what was timed, where, and every repetition's time. One file ("herd-measurements"
// version 1, documented in docs/calibration.md) holds the device it was taken on and its records;
// the CPU and CUDA backends and the importers all produce it, the fit reads it.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/calibrate/layer_dims.hpp"
#include "herd/model/workload.hpp"

namespace herd::calibrate {

inline constexpr int kMeasurementsVersion = 1;

enum class RecordKind { gemm, attention, elementwise, layer, collective };
std::string_view to_string(RecordKind k);

/// The device the records were taken on, and the peaks their efficiencies are fractions of.
struct DeviceInfo {
  std::string backend;           ///< "cpu", "cuda", "nccl-tests", "kineto"
  std::string name;              ///< "NVIDIA H100 80GB HBM3", "Intel(R) Xeon(R) ... (2 threads)"
  double peak_flops = 0;         ///< FLOP/s (BF16 tensor core on a GPU; FP32 on the CPU); 0 = unknown
  std::string peak_source;       ///< how peak_flops was obtained
  double memory_bandwidth = 0;   ///< bytes/s; 0 = unknown
  std::string bandwidth_source;
  int parallel_units = 0;        ///< SMs, or CPU worker threads
  int devices = 1;               ///< GPUs the collectives ran over
  /// Driver, CUDA/cuBLAS/cuDNN/NCCL versions, clocks, host, date: whatever the backend could read.
  nlohmann::json details = nlohmann::json::object();
};

struct CollectiveShape {
  double bytes = 0;     ///< buffer size, nccl-tests convention (all_gather: output, reduce_scatter: input)
  int ranks = 0;
  int nodes = 1;
  bool in_place = false;
};

struct Record {
  RecordKind kind = RecordKind::gemm;
  std::string op;     ///< workload op name (gemm: the first op with this shape), element-wise class, collective
  std::string pass;   ///< "forward", "backward", "forward_backward"; "" for collectives
  std::string dtype;  ///< "bf16", "fp32"
  model::GemmShape gemm;            ///< gemm: C[m,n] = A[m,k] B[k,n]
  model::AttentionShape attention;  ///< attention: causal, pairs = s(s+1)/2 per sequence and head
  std::int64_t rows = 0, cols = 0;  ///< elementwise: the tensor the kernel walks
  LayerDims layer;                  ///< layer, and the layer an op was taken from
  CollectiveShape collective;       ///< collective
  double flops = 0;                 ///< as the workload model counts them
  double bytes = 0;                 ///< HBM bytes as the workload model counts them
  std::string impl;                 ///< kernel or library that ran ("cublasLt", "herd-flash-wmma", ...)
  std::vector<double> times_s;      ///< every timed repetition, after warm-up
  double median_s = 0;
  double sustained_s = 0;           ///< layer: run back to back for at least this long (0: a short burst)

  /// Time of the median repetition (0 when nothing was timed).
  void set_times(std::vector<double> times);
  /// A sustained run: median_s becomes the median of the second half of the runs (the settled speed).
  void mark_sustained(double seconds);
};

/// Of a sustained record: the median time of its first runs (the first 5%, at least 3) over the
/// median of its second half; below 1 when the device slowed down as it ran. 1 for fewer than 20
/// runs or a record that is not sustained.
double sustained_ratio(const Record& r);

/// Calls an importer (or the fit) left out, by the op that launched their kernels, and why.
struct SkippedOp {
  std::string op;        ///< CPU op name ("aten::bmm", "_LinearBackward", "(no CPU op)") or record op
  std::string reason;    ///< one phrase: "no Input Dims recorded", "fp32: the fit is BF16 only", ...
  int calls = 0;         ///< op calls (External ids, or timed repetitions) left out
  double kernel_s = 0;   ///< their kernels' summed time (0 when unknown)
};

struct MeasurementSet {
  DeviceInfo device;
  std::vector<Record> records;
  std::vector<std::string> notes;  ///< "one GPU: NCCL sweep skipped", ...
  std::string source;              ///< the file it was read from
  /// What the importer read but could not make a record of (optional "skipped" in the file),
  /// most kernel time first.
  std::vector<SkippedOp> skipped;
};

/// The element type a device's peak_flops is for, and so the only dtype the fit takes GEMM and
/// attention records of: "fp32" for the CPU backend, "bf16" otherwise (the GPU presets' and the
/// CUDA backend's peak is dense BF16). Records without a dtype count as this one.
std::string fitted_dtype(const DeviceInfo& device);

/// Median of `values` (mean of the middle two for an even count); 0 for none.
double median(std::vector<double> values);

nlohmann::json to_json(const MeasurementSet& set);
/// Throws model::ValueError naming the JSON pointer at fault.
MeasurementSet measurements_from_json(const nlohmann::json& doc);
/// Throws model::InputError naming the file and pointer.
MeasurementSet load_measurements(const std::filesystem::path& file);
/// Writes atomically. Throws std::runtime_error naming the path.
void save_measurements(const MeasurementSet& set, const std::filesystem::path& file);

}  // namespace herd::calibrate
