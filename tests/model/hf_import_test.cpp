// Hugging Face config.json files mapped to scenario models: Llama-style, GPT-2, GPT-NeoX and
// Nemotron (squared-ReLU MLP, partial RoPE, LayerNorm), with the parameter counts their shapes imply.
#include <catch2/catch.hpp>

#include "herd/model/architecture.hpp"
#include "herd/model/error.hpp"
#include "herd/model/hf_import.hpp"
#include "herd/model/scenario.hpp"

using namespace herd::model;
using nlohmann::json;

namespace {
// The imported model in a scenario of its own (one DGX node, TP 8), at 4K tokens.
TransformerSpec imported(const json& config) {
  json model = model_from_hf_config(config, "test");
  model["seq_len"] = 4096;
  const json doc = {{"cluster", {{"num_gpus", 8}, {"gpu", "h100-sxm-80gb"}}}, {"model", model}, {"plan", {{"tp", 8}}}};
  return scenario_from_json(doc, "test").model;
}

std::string error_of(const json& config) {
  try {
    model_from_hf_config(config, "test");
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

// Nemotron-4 340B as its Hugging Face conversion states it (NemotronForCausalLM; shapes of
// arXiv:2406.11704 §2.1: 96 layers, h 18,432, 96 heads, 8 KV heads, FFN 73,728, vocab 256,000,
// squared ReLU, RoPE on half of each head, untied embeddings, no biases).
json nemotron4_340b() {
  return {{"architectures", {"NemotronForCausalLM"}},
          {"model_type", "nemotron"},
          {"hidden_size", 18432},
          {"intermediate_size", 73728},
          {"num_hidden_layers", 96},
          {"num_attention_heads", 96},
          {"num_key_value_heads", 8},
          {"vocab_size", 256000},
          {"hidden_act", "relu2"},
          {"partial_rotary_factor", 0.5},
          {"max_position_embeddings", 4096},
          {"tie_word_embeddings", false},
          {"attention_bias", false},
          {"mlp_bias", false},
          {"norm_eps", 1e-5}};
}
}  // namespace

TEST_CASE("Nemotron-4 340B imports with a squared-ReLU MLP, half-rotary RoPE and 341.0 B parameters", "[hf_import]") {
  const json m = model_from_hf_config(nemotron4_340b(), "nemotron-4-340b");
  CHECK(m["mlp"] == "relu2");
  CHECK(m["norm"] == "layernorm");
  CHECK(m["position"] == "rope");
  CHECK(m["rotary_fraction"] == 0.5);
  CHECK(m["bias"] == false);
  CHECK(m["tied_embeddings"] == false);

  const TransformerSpec s = imported(nemotron4_340b());
  CHECK(s.mlp == MlpKind::relu2);
  CHECK(s.head_dim == 192);  // 18,432 / 96
  CHECK(s.rotary_fraction == 0.5);
  // Closed form, h = 18,432, q = 96 x 192 = h, kv = 8 x 192 = 1,536, f = 73,728, V = 256,000:
  // per layer 2h*q + 2h*kv (attention) + 2h*f (up, down) + 2 * 2h (two LayerNorms, weight and bias)
  //   = 679,477,248 + 56,623,104 + 2,717,908,992 + 73,728 = 3,454,083,072;
  // total 96 x per layer + V*h (embedding) + V*h (output) + 2h (final LayerNorm)
  //   = 331,591,974,912 + 9,437,184,000 + 36,864 = 341,029,195,776.
  const ParameterCounts c = count_parameters(s);
  const long long h = 18432, kv = 1536, f = 73728, V = 256000;
  CHECK(c.mlp == 2 * h * f);
  CHECK(c.per_layer == 2 * h * h + 2 * h * kv + 2 * h * f + 4 * h);
  CHECK(c.per_layer == 3'454'083'072LL);
  CHECK(c.total == 96 * c.per_layer + 2 * V * h + 2 * h);
  CHECK(c.total == 341'029'195'776LL);
}

TEST_CASE("activation names and rotary fractions map as the model classes define them", "[hf_import]") {
  json c = nemotron4_340b();
  c.erase("hidden_act");
  c.erase("partial_rotary_factor");
  // NemotronConfig's defaults: hidden_act "relu2", partial_rotary_factor 0.5.
  CHECK(model_from_hf_config(c, "x")["mlp"] == "relu2");
  CHECK(model_from_hf_config(c, "x")["rotary_fraction"] == 0.5);
  c["hidden_act"] = "squared-relu";  // NeMo's spelling
  CHECK(model_from_hf_config(c, "x")["mlp"] == "relu2");
  c["rope_parameters"] = {{"rope_theta", 10000.0}, {"partial_rotary_factor", 0.25}};  // transformers 5 layout
  CHECK(model_from_hf_config(c, "x")["rotary_fraction"] == 0.25);

  // GPT-NeoX (Pythia): LayerNorm, gelu, rotary_pct; GPTNeoXConfig's default rotary_pct is 0.25.
  json neox = {{"model_type", "gpt_neox"}, {"hidden_size", 2048}, {"intermediate_size", 8192},
               {"num_hidden_layers", 16}, {"num_attention_heads", 8}, {"vocab_size", 50304},
               {"hidden_act", "gelu"}, {"max_position_embeddings", 2048}};
  CHECK(model_from_hf_config(neox, "x")["mlp"] == "gelu");
  CHECK(model_from_hf_config(neox, "x")["rotary_fraction"] == 0.25);
  neox["rotary_pct"] = 1.0;
  CHECK(model_from_hf_config(neox, "x")["rotary_fraction"] == 1.0);

  // Llama: gated SiLU, every dimension rotated.
  const json llama = {{"model_type", "llama"}, {"hidden_size", 4096}, {"intermediate_size", 14336},
                      {"num_hidden_layers", 32}, {"num_attention_heads", 32}, {"vocab_size", 128256},
                      {"hidden_act", "silu"}};
  CHECK(model_from_hf_config(llama, "x")["mlp"] == "swiglu");
  CHECK(model_from_hf_config(llama, "x")["rotary_fraction"] == 1.0);

  // GPT-2: learned positions, no rotary fraction.
  const json gpt2 = {{"model_type", "gpt2"}, {"n_embd", 768}, {"n_layer", 12}, {"n_head", 12}, {"vocab_size", 50257},
                     {"n_positions", 1024}};
  CHECK(model_from_hf_config(gpt2, "x")["position"] == "learned");
  CHECK_FALSE(model_from_hf_config(gpt2, "x").contains("rotary_fraction"));
}

TEST_CASE("an activation or rotary fraction Herd cannot model names its key", "[hf_import][errors]") {
  json c = nemotron4_340b();
  c["hidden_act"] = "relu";
  CHECK(error_of(c) == "/hidden_act: unsupported activation \"relu\" (Herd models silu/swiglu, gelu* and relu2)");
  c = nemotron4_340b();
  c["partial_rotary_factor"] = 1.5;
  CHECK(error_of(c) == "/partial_rotary_factor: expected a fraction in (0, 1], got 1.5");
}
