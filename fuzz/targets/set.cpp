// `--set path=value` overrides, one per input line, on the built-in llama3-8b scenario (256 H100),
// through the command the first line names ("#simulate" (default), "#train" or "#plan"): the
// override parser, the key table, and every model behind a step, a run and a search.
#include "common.hpp"

namespace herd::fuzz {

Target make_target() {
  Target t;
  t.name = "set";
  t.kind = InputKind::set_lines;
  t.paths = scenario_paths();
  t.dictionary = scenario_words();
  t.run = [](std::string_view input, const std::string&) {
    std::string command = "simulate";
    std::vector<std::string> sets;
    std::size_t start = 0;
    bool first = true;
    while (start < input.size()) {
      std::size_t end = input.find('\n', start);
      if (end == std::string_view::npos) end = input.size();
      const std::string line(input.substr(start, end - start));
      if (first && (line == "#train" || line == "#plan" || line == "#simulate")) command = line.substr(1);
      else if (!line.empty()) sets.push_back(line);
      first = false;
      start = end + 1;
    }
    std::vector<std::string> args{command, "llama3-8b"};
    if (command == "train") args.insert(args.end(), {"--trials", "3"});
    if (command == "plan") args.insert(args.end(), {"--top", "2", "--no-robustness", "--threads", "1"});
    for (const auto& set : sets) args.insert(args.end(), {"--set", set});
    return run_herd(args);
  };
  t.sources = [](const std::string&) { return std::vector<std::string>{"--set", "llama3-8b", "preset "}; };
  return t;
}

}  // namespace herd::fuzz
