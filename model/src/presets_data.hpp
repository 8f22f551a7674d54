#pragma once
#include <cstddef>

namespace herd::model::detail {

struct EmbeddedPreset {
  const char* kind;  ///< "models", "gpus", "clusters", "scenarios"
  const char* name;
  const char* json;
};

extern const EmbeddedPreset kEmbeddedPresets[];
extern const std::size_t kEmbeddedPresetCount;

}  // namespace herd::model::detail
