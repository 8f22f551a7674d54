#include "common.hpp"

#include <set>
#include <sstream>

#include "herd/calibrate/cli.hpp"
#include "herd/cli/app.hpp"
#include "herd/model/params.hpp"
#include "herd/model/units.hpp"

namespace herd::fuzz {

Outcome run_herd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = cli::run(args, out, err);
  return {code, err.str()};
}

Outcome run_herd_calibrate(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = calibrate::run_calibrate(args, out, err);
  return {code, err.str()};
}

std::vector<std::string> scenario_paths() {
  std::vector<std::string> paths;
  for (const auto& p : model::scenario_params()) paths.emplace_back(p.path);
  return paths;
}

std::vector<std::string> scenario_words() {
  std::set<std::string> words = {"llama3-405b", "llama3-70b", "llama3-8b", "gpt3-175b", "h100-sxm-80gb",
                                 "a100-sxm-40gb", "a100-sxm-80gb", "h200-sxm-141gb", "dgx-h100-superpod",
                                 "dgx-a100-superpod", "llama3-roce", "llama3-405b-16k", "preset", "hf_config"};
  for (const auto& p : model::scenario_params()) {
    std::string_view path = p.path;
    const auto dot = path.rfind('.');
    std::string leaf(dot == std::string_view::npos ? path : path.substr(dot + 1));
    if (leaf.ends_with("[]")) leaf.resize(leaf.size() - 2);
    if (leaf != "*") words.insert(leaf);
    for (const auto choice : model::split_choices(p.choices)) words.emplace(choice);
    if (p.dimension != model::Dimension::count) words.emplace(model::dimension_example(p.dimension));
  }
  return {words.begin(), words.end()};
}

}  // namespace herd::fuzz
