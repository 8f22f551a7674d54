#pragma once
// What the use-case tests share: the golden summaries (what `herd simulate --json` and
// `herd train --json` print, pinned by tests/cli/golden_test.cpp), a calibration profile file, and
// a Control that records its progress calls.
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/calibration_profile.hpp"
#include "herd/model/io.hpp"
#include "herd/sim/control.hpp"

namespace herd::app::test {

/// tests/golden/builtin/NAME.json: {"step": {...}, "run": {...}}.
inline nlohmann::json golden(const std::string& name) {
  std::ifstream in(std::filesystem::path(HERD_SOURCE_DIR) / "tests" / "golden" / "builtin" / (name + ".json"));
  return nlohmann::json::parse(in);
}

/// A profile file measured on `gpu_name`, written under the temporary directory as `file`.
inline std::string profile_file(const std::string& file, const std::string& gpu_name) {
  model::CalibrationProfile p;
  p.gpu_name = gpu_name;
  p.backend = "cuda";
  const auto path = std::filesystem::temp_directory_path() / file;
  model::write_file_atomically(path, model::to_json(p).dump());
  return path.string();
}

/// Every progress call as (what, done, total).
struct ProgressLog {
  std::vector<std::pair<std::string, std::pair<int, int>>> calls;
  sim::Progress callback() {
    return [this](std::string_view what, int done, int total) { calls.push_back({std::string(what), {done, total}}); };
  }
  bool saw(const std::string& what) const {
    for (const auto& c : calls)
      if (c.first == what) return true;
    return false;
  }
};

}  // namespace herd::app::test
