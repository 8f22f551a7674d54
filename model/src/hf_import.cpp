#include "herd/model/hf_import.hpp"

#include <algorithm>
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
    throw ValueError(std::string("/") + *keys.begin(), "expected a positive integer, got " + show_value(*v));
  return v->get<long long>();
}

// The MLP a config's activation names. Llama-style configs name the gate's activation ("silu") of
// a gated MLP; GPT-2, GPT-NeoX and Phi name the one activation of a non-gated MLP ("gelu",
// "gelu_new", "gelu_fast"); Nemotron's "relu2" is squared ReLU (transformers activations.py maps
// "relu2" to ReLUSquaredActivation; NeMo model_config.yaml spells it "squared-relu").
std::string mlp_of(const std::string& act, const std::string& pointer) {
  if (act == "relu2" || act == "squared-relu" || act == "squared_relu" || act == "relu_squared") return "relu2";
  if (act.rfind("gelu", 0) == 0) return "gelu";
  if (act == "silu" || act == "swish" || act == "swiglu") return "swiglu";
  throw ValueError(pointer, "unsupported activation \"" + act + "\" (Herd models silu/swiglu, gelu* and relu2)");
}

// The fraction of each head that RoPE rotates: partial_rotary_factor (Phi, Nemotron, Persimmon,
// StableLM; in rope_parameters from transformers 5), rotary_pct (GPT-NeoX), else the default of the
// model_type's config class in transformers: GPTNeoXConfig rotary_pct 0.25, NemotronConfig and
// PhiConfig partial_rotary_factor 0.5; 1 for everything else.
double rotary_fraction_of(const json& config, const std::string& arch) {
  const json* v = first_of(config, {"partial_rotary_factor", "rotary_pct"});
  std::string key = v && config.contains("partial_rotary_factor") ? "/partial_rotary_factor" : "/rotary_pct";
  if (!v && config.contains("rope_parameters") && config["rope_parameters"].is_object()) {
    v = first_of(config["rope_parameters"], {"partial_rotary_factor"});
    key = "/rope_parameters/partial_rotary_factor";
  }
  if (!v) return arch == "gpt_neox" ? 0.25 : arch == "nemotron" || arch == "phi" ? 0.5 : 1.0;
  if (!v->is_number() || !(v->get<double>() > 0) || v->get<double>() > 1)
    throw ValueError(key, "expected a fraction in (0, 1], got " + show_value(*v));
  return v->get<double>();
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
    // GPT-2: n_inner null means 4 * n_embd (a width past 2^60 is left to the scenario's bound, not wrapped).
    m["ffn_hidden"] = 4 * std::min(m["hidden"].get<long long>(), 1LL << 60);
  else
    throw ValueError("/intermediate_size", "is required");
  if (const json* kv = first_of(config, {"num_key_value_heads"})) m["kv_heads"] = kv->get<long long>();
  if (const json* hd = first_of(config, {"head_dim"})) m["head_dim"] = hd->get<long long>();
  m["tied_embeddings"] = config.value("tie_word_embeddings", gpt2_style);
  // Default activation per config class: GPT-2 gelu_new, NemotronConfig relu2, Llama-style silu.
  const std::string default_act = gpt2_style ? "gelu_new" : arch == "nemotron" ? "relu2" : "silu";
  const json* act = first_of(config, {"hidden_act", "activation_function"});
  const std::string act_pointer = config.contains("hidden_act") ? "/hidden_act" : "/activation_function";
  if (act && !act->is_string()) throw ValueError(act_pointer, "expected an activation name, got " + show_value(*act));
  m["mlp"] = mlp_of(act ? act->get<std::string>() : default_act, act_pointer);
  if (gpt2_style || arch == "gpt2" || arch == "gpt_neox" || arch == "opt") {
    m["norm"] = "layernorm";
    m["position"] = arch == "gpt_neox" ? "rope" : "learned";
    m["bias"] = arch != "gpt_neox" || config.value("use_bias", true);
    if (const json* n = first_of(config, {"n_positions", "max_position_embeddings"})) m["max_position"] = n->get<long long>();
  } else if (arch == "phi") {
    // Phi-1/1.5/2 (modeling_phi.py): LayerNorm, biases on every linear layer, partial RoPE.
    m["norm"] = "layernorm";
    m["position"] = "rope";
    m["bias"] = true;
  } else {
    // Nemotron (modeling_nemotron.py) normalises with NemotronLayerNorm1P, a LayerNorm with weight
    // and bias; Llama-style models with RMSNorm.
    m["norm"] = arch == "nemotron" ? "layernorm" : "rmsnorm";
    m["position"] = "rope";
    m["bias"] = config.value("attention_bias", false) || config.value("mlp_bias", false);
  }
  if (m["position"] == "rope") m["rotary_fraction"] = rotary_fraction_of(config, arch);
  return m;
}

json import_hf_config(const std::filesystem::path& file) {
  return parse_json_file(file, "Hugging Face config",
                         [&](const json& config) { return model_from_hf_config(config, file.parent_path().filename().string()); });
}

}  // namespace herd::model
