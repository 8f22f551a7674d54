// herd-calibrate self-test: the reference layer's gradients against finite differences (CPU), or
// the GPU layer against the CPU reference (CUDA).
#include <cstdio>
#include <memory>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/calibrate/self_test.hpp"
#include "herd/model/error.hpp"
#if HERD_CALIBRATE_WITH_CUDA
#include "herd/calibrate/cuda_backend.hpp"
#endif

namespace herd::calibrate::cli {

namespace {
struct SelfTestCommand {
  std::string backend = default_backend();
  int device = 0;
};

int report(std::ostream& out, const std::vector<Check>& checks) {
  bool ok = true;
  char line[160];
  for (const Check& c : checks) {
    std::snprintf(line, sizeof line, "  %-28s error %.3e  tolerance %.1e  %s\n", c.what.c_str(), c.error, c.tolerance,
                  c.passed() ? "ok" : "FAILED");
    out << line;
    ok = ok && c.passed();
  }
  out << (ok ? "self-test passed\n" : "self-test FAILED\n");
  return ok ? kExitOk : kExitFailure;
}
}  // namespace

Action add_self_test_command(CLI::App& app) {
  auto c = std::make_shared<SelfTestCommand>();
  auto* cmd = app.add_subcommand("self-test", "Check the layer's math: CPU gradients, or the GPU layer against the CPU");
  cmd->add_option("--backend", c->backend, "cuda or cpu; default: cuda when a GPU is visible")->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--device", c->device, "CUDA device")->check(CLI::NonNegativeNumber);
  return [c](Streams io) {
    if (c->backend == "cpu") {
      io.out << "CPU layer backward against central differences (double precision), " << small_check_layer().label() << "\n";
      return report(io.out, cpu_gradient_check(small_check_layer(), 11, 1));
    }
#if HERD_CALIBRATE_WITH_CUDA
    // A layer with the shapes' awkward cases: GQA groups of 4, a sequence that is not a multiple
    // of the attention kernels' 64-row blocks, two sequences.
    LayerDims d;
    d.batch = 2;
    d.seq = 200;
    d.hidden = 256;
    d.heads_q = 8;
    d.heads_kv = 2;
    d.head_dim = 128;
    d.ffn = 384;
    io.out << "GPU layer (BF16) against the CPU reference (double precision), " << d.label() << "\n";
    auto checks = cuda::self_test(c->device, d);
    d.head_dim = 64;  // the other head size the attention kernels are built for
    d.heads_q = 16;
    d.heads_kv = 16;
    io.out << "and " << d.label() << "\n";
    for (auto& check : cuda::self_test(c->device, d)) checks.push_back(check);
    return report(io.out, checks);
#else
    throw model::InputError("--backend cuda", "", "this herd-calibrate was built without CUDA (HERD_WITH_CUDA)");
#endif
  };
}

}  // namespace herd::calibrate::cli
