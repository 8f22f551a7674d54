#pragma once
// What the planner tests share: a built-in scenario with --set overrides.
#include <initializer_list>
#include <vector>

#include "herd/model/scenario.hpp"

namespace herd::test {

inline model::Scenario scenario(std::initializer_list<const char*> texts, const char* base = "llama3-8b") {
  std::vector<model::Override> o;
  for (const char* t : texts) o.push_back(model::parse_override(t));
  return model::load_scenario(base, o);
}

}  // namespace herd::test
