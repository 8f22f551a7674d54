#include "schema.hpp"

namespace herd::model::schema {

namespace {
using enum ParamType;
using enum Range;
using D = Dimension;
constexpr ParamDecl kParams[] = {
    {"model.preset", string, "", "Built-in architecture: llama3-8b, llama3-70b, llama3-405b, gpt3-175b."},
    {"model.hf_config", string, "", "Hugging Face config.json to import (hidden_size, intermediate_size, num_attention_heads, num_key_value_heads, num_hidden_layers, vocab_size, tie_word_embeddings, hidden_act, partial_rotary_factor / rotary_pct; GPT-2, GPT-NeoX, Phi and Nemotron layouts by model_type); relative to the scenario file."},
    {"model.name", string, "\"\"", "Model name shown in reports."},
    {"model.source", string, "\"\"", "Where the architecture comes from."},
    {"model.layers", integer, "", "Transformer layers.", D::count, at_least_one},
    {"model.hidden", integer, "", "Model dimension h.", D::count, at_least_one},
    {"model.ffn_hidden", integer, "", "MLP inner dimension (SwiGLU: per branch; GeLU: usually 4h).", D::count, at_least_one},
    {"model.heads", integer, "", "Attention (query) heads.", D::count, at_least_one},
    {"model.kv_heads", integer, "null", "Key/value heads (GQA); default: heads (MHA).", D::count, at_least_one},
    {"model.head_dim", integer, "null", "Dimension per head; default: hidden / heads.", D::count, at_least_one},
    {"model.vocab", integer, "", "Vocabulary size.", D::count, at_least_one},
    {"model.tied_embeddings", boolean, "false", "Output projection shares the input embedding matrix."},
    {"model.mlp", choice, "\"swiglu\"", "MLP type: swiglu (gated, three matrices; Llama), gelu (two; GPT-3) or relu2 (squared ReLU, two; Nemotron-4, arXiv:2402.16819).", D::count, any, "swiglu|gelu|relu2"},
    {"model.norm", choice, "\"rmsnorm\"", "Normalisation: rmsnorm (weight only) or layernorm (weight and bias).", D::count, any, "rmsnorm|layernorm"},
    {"model.position", choice, "\"rope\"", "Position encoding: rope (no parameters) or learned (a max_position x hidden table).", D::count, any, "rope|learned"},
    {"model.rotary_fraction", number, "1", "Fraction of each query/key head's dimensions that RoPE rotates (Megatron-LM rotary_percent, Hugging Face partial_rotary_factor / rotary_pct): 0.5 for Nemotron-4, 0.25 for GPT-NeoX and Pythia, 1 for Llama.", D::count, fraction},
    {"model.bias", boolean, "false", "Linear layers carry biases (GPT-3 style)."},
    {"model.dropout", boolean, "false", "Dropout after attention and MLP (and on attention probabilities when unfused): its masks are kept for backward (Korthikanti et al. 2022 count them)."},
    {"model.seq_len", integer, "", "Training sequence length in tokens.", D::count, at_least_one},
    {"model.max_position", integer, "null", "Rows of a learned position table; default: seq_len.", D::count, at_least_one},
};
}  // namespace

std::span<const ParamDecl> model() { return kParams; }

}  // namespace herd::model::schema
