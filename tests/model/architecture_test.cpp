// Exact parameter counts from the published shapes (llama3.md: 8,030,261,248; 70,553,706,496;
// 405,853,388,800). Closed form, Llama: L (2hq + 2h kv + 3hf + 2h) + 2Vh + h.
#include <catch2/catch.hpp>

#include "herd/model/architecture.hpp"
#include "herd/model/presets.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;

namespace {
// A bare model preset loads on the default cluster with TP 8 and DP over the rest.
TransformerSpec preset_model(const char* name) { return load_scenario(name).model; }
}  // namespace

TEST_CASE("Llama 3 parameter counts match the published shapes exactly", "[architecture]") {
  CHECK(count_parameters(preset_model("llama3-8b")).total == 8'030'261'248LL);
  CHECK(count_parameters(preset_model("llama3-70b")).total == 70'553'706'496LL);
  CHECK(count_parameters(preset_model("llama3-405b")).total == 405'853'388'800LL);
}

TEST_CASE("Llama 3 405B per-layer count follows the closed form", "[architecture]") {
  const auto c = count_parameters(preset_model("llama3-405b"));
  const long long h = 16384, q = 128 * 128, kv = 8 * 128, f = 53248;
  CHECK(c.attention == 2 * h * q + 2 * h * kv);
  CHECK(c.mlp == 3 * h * f);
  CHECK(c.layer_norms == 2 * h);
  CHECK(c.embedding == 128256LL * h);
  CHECK(c.output == 128256LL * h);
}

TEST_CASE("GPT-3 175B: MHA, GeLU 4h, LayerNorm, biases, learned positions, tied embeddings", "[architecture]") {
  // Per layer 12h^2 + 13h; embedding (V + positions) h; final LayerNorm 2h; no separate output.
  const auto c = count_parameters(preset_model("gpt3-175b"));
  const long long h = 12288;
  CHECK(c.per_layer == 12 * h * h + 13 * h);
  CHECK(c.output == 0);
  CHECK(c.total == 96 * (12 * h * h + 13 * h) + (50257 + 2048) * h + 2 * h);
  CHECK(c.total == 174'604'259'328LL);
}

TEST_CASE("a squared-ReLU MLP has two matrices where SwiGLU has three", "[architecture]") {
  // Non-gated MLP (Nemotron-4, arXiv:2402.16819): up h x f and down f x h, 2hf; SwiGLU adds the gate, 3hf.
  // With biases: up's f and down's h, f + h (SwiGLU: gate's f as well, 2f + h).
  TransformerSpec m;
  m.layers = 1;
  m.hidden = 1024;
  m.ffn_hidden = 4096;
  m.heads = 8;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.vocab = 1000;
  m.mlp = MlpKind::relu2;
  const long long h = 1024, f = 4096;
  CHECK(count_parameters(m).mlp == 2 * h * f);
  m.bias = true;
  CHECK(count_parameters(m).mlp == 2 * h * f + f + h);
  m.bias = false;
  m.mlp = MlpKind::swiglu;
  CHECK(count_parameters(m).mlp == 3 * h * f);
}
