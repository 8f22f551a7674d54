#pragma once
#include "herd/model/scenario.hpp"

namespace herd::model::detail {

/// Fills the typed sections of `s` from `s.resolved` (already validated against the table) and
/// checks the plan. Throws ValueError with the pointer at fault.
void build_scenario(Scenario& s);

}  // namespace herd::model::detail
