#include "herd/model/presets.hpp"

#include <algorithm>

#include "presets_data.hpp"

namespace herd::model {

namespace {
std::string_view folder(PresetKind k) {
  switch (k) {
    case PresetKind::scenario: return "scenarios";
    case PresetKind::model: return "models";
    case PresetKind::gpu: return "gpus";
    case PresetKind::cluster: return "clusters";
  }
  return "";
}
}  // namespace

std::string_view to_string(PresetKind k) {
  switch (k) {
    case PresetKind::scenario: return "scenario";
    case PresetKind::model: return "model";
    case PresetKind::gpu: return "GPU";
    case PresetKind::cluster: return "cluster";
  }
  return "";
}

std::optional<nlohmann::json> find_preset(PresetKind kind, std::string_view name) {
  for (std::size_t i = 0; i < detail::kEmbeddedPresetCount; ++i) {
    const auto& p = detail::kEmbeddedPresets[i];
    if (folder(kind) == p.kind && name == p.name) return nlohmann::json::parse(p.json);
  }
  return std::nullopt;
}

std::vector<std::string> preset_names(PresetKind kind) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < detail::kEmbeddedPresetCount; ++i)
    if (folder(kind) == detail::kEmbeddedPresets[i].kind) names.emplace_back(detail::kEmbeddedPresets[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace herd::model
