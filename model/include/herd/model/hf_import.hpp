#pragma once
// Imports a Hugging Face config.json as a scenario `model` object.
#include <filesystem>

#include <nlohmann/json.hpp>

namespace herd::model {

/// Maps Llama-style keys (hidden_size, intermediate_size, num_attention_heads, num_key_value_heads,
/// num_hidden_layers, vocab_size, tie_word_embeddings, head_dim, hidden_act) and GPT-2-style keys
/// (n_embd, n_inner, n_head, n_layer, n_positions) to scenario model keys. hidden_act picks the MLP
/// (silu: swiglu; gelu*: gelu; relu2 / squared-relu: relu2); partial_rotary_factor or rotary_pct
/// the rotary fraction; model_type gpt2, gpt_neox, opt, phi and nemotron pick LayerNorm (and
/// biases, positions) as those models have them.
/// Throws ValueError with a pointer into the config (e.g. "/hidden_size: is required",
/// "/hidden_act: unsupported activation \"relu\" ...").
nlohmann::json model_from_hf_config(const nlohmann::json& config, const std::string& name);

/// Reads and maps a config file. Throws InputError naming the file.
nlohmann::json import_hf_config(const std::filesystem::path& file);

}  // namespace herd::model
