#include "cuda_common.hpp"

#include <random>

namespace herd::calibrate::cuda {

namespace {
template <typename T>
DeviceBuffer<T> upload(const std::vector<T>& host) {
  DeviceBuffer<T> d(host.size());
  check(cudaMemcpy(d.get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy to device");
  return d;
}
template <typename T>
std::vector<T> fetch(const DeviceBuffer<T>& d) {
  std::vector<T> host(d.size());
  check(cudaMemcpy(host.data(), d.get(), d.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  return host;
}
}  // namespace

DeviceBuffer<bf16> upload_bf16(const std::vector<float>& host) {
  std::vector<bf16> rounded(host.size());
  for (std::size_t i = 0; i < host.size(); ++i) rounded[i] = __float2bfloat16(host[i]);
  return upload(rounded);
}

DeviceBuffer<float> upload_f32(const std::vector<float>& host) { return upload(host); }

std::vector<float> download(const DeviceBuffer<bf16>& buffer) {
  const std::vector<bf16> raw = fetch(buffer);
  std::vector<float> out(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) out[i] = __bfloat162float(raw[i]);
  return out;
}

std::vector<float> download(const DeviceBuffer<float>& buffer) { return fetch(buffer); }

std::vector<float> round_to_bf16(std::vector<float> values) {
  for (float& v : values) v = __bfloat162float(__float2bfloat16(v));
  return values;
}

std::vector<float> random_floats(std::size_t count, std::uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(count);
  for (float& x : v) x = normal(rng);
  return v;
}

}  // namespace herd::calibrate::cuda
