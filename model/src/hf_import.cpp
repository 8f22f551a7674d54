#include "herd/model/hf_import.hpp"

#include <fstream>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::model {

namespace {
using nlohmann::json;

// The first of several spellings that the config has.
const json* first_of(const json& config, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (config.contains(k) && !config[k].is_null()) return &config[k];
  return nullptr;
}

long long required_int(const json& config, std::initializer_list<const char*> keys) {
  const json* v = first_of(config, keys);
  if (!v) throw ValueError(std::string("/") + *keys.begin(), "is required");
  if (!v->is_number_integer() || v->get<long long>() <= 0)
    throw ValueError(std::string("/") + *keys.begin(), "expected a positive integer, got " + v->dump());
  return v->get<long long>();
}
}  // namespace

json model_from_hf_config(const json& config, const std::string& name) {
  if (!config.is_object()) throw ValueError("", "a Hugging Face config must be a JSON object");
  json m;
  m["name"] = config.value("_name_or_path", name);
  m["source"] = "Hugging Face config " + name;
  m["hidden"] = required_int(config, {"hidden_size", "n_embd"});
  m["layers"] = required_int(config, {"num_hidden_layers", "n_layer"});
  m["heads"] = required_int(config, {"num_attention_heads", "n_head"});
  m["vocab"] = required_int(config, {"vocab_size"});
  const std::string arch = config.value("model_type", "");
  const bool gpt2_style = config.contains("n_embd");
  if (const json* f = first_of(config, {"intermediate_size", "n_inner"}); f && !f->is_null())
    m["ffn_hidden"] = f->get<long long>();
  else if (gpt2_style)
    m["ffn_hidden"] = 4 * m["hidden"].get<long long>();  // GPT-2: n_inner null means 4 * n_embd
  else
    throw ValueError("/intermediate_size", "is required");
  if (const json* kv = first_of(config, {"num_key_value_heads"})) m["kv_heads"] = kv->get<long long>();
  if (const json* hd = first_of(config, {"head_dim"})) m["head_dim"] = hd->get<long long>();
  m["tied_embeddings"] = config.value("tie_word_embeddings", gpt2_style);
  const std::string act = config.value("hidden_act", config.value("activation_function", gpt2_style ? "gelu_new" : "silu"));
  m["mlp"] = act.rfind("gelu", 0) == 0 ? "gelu" : "swiglu";
  if (gpt2_style || arch == "gpt2" || arch == "gpt_neox" || arch == "opt") {
    m["norm"] = "layernorm";
    m["position"] = arch == "gpt_neox" ? "rope" : "learned";
    m["bias"] = arch != "gpt_neox" || config.value("use_bias", true);
    if (const json* n = first_of(config, {"n_positions", "max_position_embeddings"})) m["max_position"] = n->get<long long>();
  } else {
    m["norm"] = "rmsnorm";
    m["position"] = "rope";
    m["bias"] = config.value("attention_bias", false) || config.value("mlp_bias", false);
  }
  return m;
}

json import_hf_config(const std::filesystem::path& file) {
  return parse_json_file(file, "Hugging Face config",
                         [&](const json& config) { return model_from_hf_config(config, file.parent_path().filename().string()); });
}

}  // namespace herd::model
