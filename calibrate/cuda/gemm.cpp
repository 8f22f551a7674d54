// A row-major product C = op(A) op(B) is the column-major product C^T = op(B)^T op(A)^T, so
// cuBLASLt (column-major) is called with the operands swapped: its A is our B, its B our A.
#include "gemm.hpp"

#include <string>

namespace herd::calibrate::cuda {

namespace {
void check_lt(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + ": cuBLAS status " + std::to_string(int(status)));
}
}  // namespace

struct Gemm::Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulHeuristicResult_t heuristic{};
  ~Plan() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (desc) cublasLtMatmulDescDestroy(desc);
  }
};

Gemm::Gemm(std::size_t workspace_bytes) : workspace_(workspace_bytes) { check_lt(cublasLtCreate(&handle_), "cublasLtCreate"); }

Gemm::~Gemm() {
  plans_.clear();
  if (handle_) cublasLtDestroy(handle_);
}

std::size_t Gemm::version() { return cublasLtGetVersion(); }

Gemm::Plan& Gemm::plan(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k) {
  auto& slot = plans_[{trans_a, trans_b, m, n, k}];
  if (slot) return *slot;
  auto p = std::make_unique<Plan>();
  check_lt(cublasLtMatmulDescCreate(&p->desc, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  // cuBLASLt's A is our B (n x k as it sees it), its B is our A (k x m).
  const cublasOperation_t op_a = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  check_lt(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof op_a), "TRANSA");
  check_lt(cublasLtMatmulDescSetAttribute(p->desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof op_b), "TRANSB");
  const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
  if (trans_b) check_lt(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, u(k), u(n), k), "layout A");
  else check_lt(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, u(n), u(k), n), "layout A");
  if (trans_a) check_lt(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, u(m), u(k), m), "layout B");
  else check_lt(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, u(k), u(m), k), "layout B");
  check_lt(cublasLtMatrixLayoutCreate(&p->c, CUDA_R_16BF, u(n), u(m), n), "layout C");
  cublasLtMatmulPreference_t pref = nullptr;
  check_lt(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  const std::uint64_t bytes = workspace_.size();
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &bytes, sizeof bytes);
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(handle_, p->desc, p->a, p->b, p->c, p->c, pref, 1, &p->heuristic, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  check_lt(status, "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0)
    throw std::runtime_error("cuBLASLt has no algorithm for " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
  slot = std::move(p);
  return *slot;
}

void Gemm::run(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, const bf16* a, const bf16* b, bf16* c,
               cudaStream_t stream, bool accumulate) {
  Plan& p = plan(trans_a, trans_b, m, n, k);
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  check_lt(cublasLtMatmul(handle_, p.desc, &alpha, b, p.a, a, p.b, &beta, c, p.c, c, p.c, &p.heuristic.algo, workspace_.get(),
                          workspace_.size(), stream),
           "cublasLtMatmul");
}

}  // namespace herd::calibrate::cuda
