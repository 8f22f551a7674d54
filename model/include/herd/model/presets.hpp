#pragma once
// Built-in presets, embedded at build time from model/presets/ and scenarios/.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace herd::model {

enum class PresetKind { scenario, model, gpu, cluster };

std::string_view to_string(PresetKind k);
/// The preset's JSON, or nullopt when there is no preset of that kind and name.
std::optional<nlohmann::json> find_preset(PresetKind kind, std::string_view name);
/// Names of all presets of a kind, sorted.
std::vector<std::string> preset_names(PresetKind kind);

}  // namespace herd::model
