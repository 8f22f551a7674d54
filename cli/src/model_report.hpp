#pragma once
#include <nlohmann/json.hpp>

#include "herd/model/memory.hpp"

namespace herd::cli {

/// The `herd model --json` object (documented in docs/cli.md).
nlohmann::json model_report_json(const model::Scenario& s, const model::MemoryReport& mem);

}  // namespace herd::cli
