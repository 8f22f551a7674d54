#pragma once
// Host-side helpers of the CUDA backend: error checks that throw, device buffers, streams, events.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace herd::calibrate::cuda {

using bf16 = __nv_bfloat16;

/// Throws std::runtime_error("<what>: <CUDA error text>") unless `status` is cudaSuccess.
inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

/// Device memory for `count` elements of T, freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    if (count > 0) check(cudaMalloc(&data_, count * sizeof(T)), "cudaMalloc");
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), count_(o.count_) { o.data_ = nullptr, o.count_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(count_, o.count_);
    return *this;
  }
  ~DeviceBuffer() {
    if (data_) cudaFree(data_);
  }
  T* get() const { return data_; }
  std::size_t size() const { return count_; }
  void zero(cudaStream_t stream) { check(cudaMemsetAsync(data_, 0, count_ * sizeof(T), stream), "cudaMemsetAsync"); }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

/// A buffer filled from host floats (rounded to T).
DeviceBuffer<bf16> upload_bf16(const std::vector<float>& host);
DeviceBuffer<float> upload_f32(const std::vector<float>& host);
/// Device values as host floats.
std::vector<float> download(const DeviceBuffer<bf16>& buffer);
std::vector<float> download(const DeviceBuffer<float>& buffer);
/// Rounds to BF16 and back (what upload_bf16 stores), so a host reference sees the same inputs.
std::vector<float> round_to_bf16(std::vector<float> values);
/// `count` values from N(0, scale^2), deterministic in `seed`.
std::vector<float> random_floats(std::size_t count, std::uint64_t seed, float scale = 1.0f);

class Stream {
 public:
  Stream() { check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreate"); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { cudaStreamDestroy(s_); }
  cudaStream_t get() const { return s_; }
  void synchronize() const { check(cudaStreamSynchronize(s_), "cudaStreamSynchronize"); }

 private:
  cudaStream_t s_ = nullptr;
};

}  // namespace herd::calibrate::cuda
