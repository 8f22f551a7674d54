#pragma once
// Row-major BF16 matrix products through cuBLASLt (FP32 accumulation), the heuristic's first
// algorithm for each shape, planned once per shape so a timed call only launches.
#include <cstdint>
#include <map>
#include <memory>
#include <tuple>

#include <cublasLt.h>

#include "cuda_common.hpp"

namespace herd::calibrate::cuda {

class Gemm {
 public:
  /// cuBLAS's recommended workspace on Hopper: 32 MiB.
  explicit Gemm(std::size_t workspace_bytes = 32u << 20);
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;
  ~Gemm();

  /// C[m,n] = op(A)[m,k] op(B)[k,n] (+ C when accumulate), row-major; A is stored m x k
  /// (k x m when trans_a), B k x n (n x k when trans_b). Throws std::runtime_error on a cuBLAS error.
  void run(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const bf16* a, const bf16* b, bf16* c,
           cudaStream_t stream, bool accumulate = false);

  /// cuBLASLt's version number (cublasLtGetVersion).
  static std::size_t version();

 private:
  struct Plan;
  Plan& plan(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k);
  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;
  std::map<std::tuple<bool, bool, std::int64_t, std::int64_t, std::int64_t>, std::unique_ptr<Plan>> plans_;
};

}  // namespace herd::calibrate::cuda
