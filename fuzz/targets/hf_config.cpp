// Hugging Face config.json files, through a scenario whose model names one (`model.hf_config`) and
// `herd model`: the import and the model checks behind it.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "hf_config";
  t.kind = InputKind::json;
  t.paths = {"hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size", "num_hidden_layers",
             "vocab_size", "max_position_embeddings", "head_dim", "hidden_act", "model_type", "tie_word_embeddings",
             "partial_rotary_factor", "rotary_pct", "attention_bias", "mlp_bias", "n_embd", "n_head", "n_layer",
             "n_inner", "n_positions", "activation_function", "rope_parameters.rope_type", "torch_dtype"};
  t.dictionary = {"llama", "gpt2", "gpt_neox", "nemotron", "opt", "phi", "mistral", "silu", "gelu", "gelu_new",
                  "gelu_fast", "relu_squared", "squared_relu", "swish", "relu", "bfloat16", "float32", "LlamaForCausalLM"};
  t.run = [](std::string_view input, const std::string& dir) {
    write_input(dir + "/config.json", input);
    write_input(dir + "/scenario.json",
                R"({"cluster": {"preset": "dgx-h100-superpod", "num_gpus": 8}, "model": {"hf_config": "config.json", "seq_len": 2048},)"
                R"( "plan": {"tp": 1, "pp": 1, "dp": 8, "micro_batch": 1, "global_batch": 64}})");
    return run_herd({"model", dir + "/scenario.json"});
  };
  t.sources = [](const std::string& dir) {
    return std::vector<std::string>{dir + "/config.json", dir + "/scenario.json"};
  };
  return t;
}

}  // namespace herd::fuzz
