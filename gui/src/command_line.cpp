#include "herd/gui/command_line.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace herd::gui {

std::string usage() {
  return "usage: herd-gui [SCENARIO] [--set k=v]... [--per-rank] [--compare k=v]... [--compare-step k=v]...\n"
         "                [--trials N] [--nccl-log FILE] [--screenshot VIEW FILE] [--size WxH]\n"
         "  SCENARIO           a scenario file, a built-in scenario or a model preset (default llama3-405b-16k)\n"
         "  --set k=v          override a scenario key, as `herd` takes it\n"
         "  --per-rank         simulate every GPU instead of one per pipeline stage\n"
         "  --compare k=v      the run view's run B: the scenario with this override too (repeatable)\n"
         "  --compare-step k=v the step timeline's step B, drawn under step A: the scenario with this override\n"
         "                     too (repeatable)\n"
         "  --trials N         Monte Carlo trials of the run view\n"
         "  --nccl-log FILE    nccl-tests output to overlay on the collectives view\n"
         "  --search SPACE     the plan explorer's search space, as herd plan's flags: \"tp=4,8 pp=8,16\"\n"
         "  --screenshot VIEW FILE   render VIEW (timeline, breakdown, run, collectives, explorer; window: the whole\n"
         "                     window on the step timeline) into FILE\n"
         "                     (.png or .svg) without a display, and exit\n"
         "  --size WxH         window size (default 1600x1000)\n"
         "  --range A:B        the step timeline shows seconds A to B of the step\n";
}

std::vector<std::string> split_overrides(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (i < j) {
      std::string word = text.substr(i, j - i);
      if (word.find('=') == std::string::npos && !out.empty()) out.back() += " " + word;
      else out.push_back(std::move(word));
    }
    i = j;
  }
  return out;
}

std::string join_overrides(const std::vector<std::string>& overrides) {
  std::string out;
  for (const auto& o : overrides) out += (out.empty() ? "" : " ") + o;
  return out;
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine c;
  auto value = [&](std::size_t& i, const std::string& flag) -> const std::string& {
    if (i + 1 >= args.size()) throw std::invalid_argument(flag + " needs a value");
    return args[++i];
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") c.help = true;
    else if (a == "--version") c.version = true;
    else if (a == "--set") c.sets.push_back(value(i, a));
    else if (a.rfind("--set=", 0) == 0) c.sets.push_back(a.substr(6));
    else if (a == "--per-rank") c.per_rank = true;
    else if (a == "--compare") c.compare.push_back(value(i, a));
    else if (a == "--compare-step") c.compare_step.push_back(value(i, a));
    else if (a == "--nccl-log") c.nccl_log = value(i, a);
    else if (a == "--search") c.search = value(i, a);
    else if (a == "--trials") {
      const std::string& v = value(i, a);
      try {
        c.trials = std::stoi(v);
      } catch (const std::exception&) {
        throw std::invalid_argument("--trials: " + v + " is not a number");
      }
      if (*c.trials < 1) throw std::invalid_argument("--trials: needs at least 1");
    } else if (a == "--screenshot") {
      c.screenshot_view = value(i, a);
      c.screenshot_file = value(i, "--screenshot " + c.screenshot_view);
      if (std::find(std::begin(kViews), std::end(kViews), c.screenshot_view) == std::end(kViews))
        throw std::invalid_argument("--screenshot: unknown view \"" + c.screenshot_view +
                                    "\" (timeline, breakdown, run, collectives, explorer, window)");
    } else if (a == "--size") {
      const std::string& v = value(i, a);
      if (std::sscanf(v.c_str(), "%dx%d", &c.width, &c.height) != 2 || c.width < 200 || c.height < 200)
        throw std::invalid_argument("--size: " + v + " is not WIDTHxHEIGHT (at least 200x200)");
    } else if (a == "--range") {
      const std::string& v = value(i, a);
      double from = 0, to = 0;
      if (std::sscanf(v.c_str(), "%lf:%lf", &from, &to) != 2 || from < 0 || to <= from)
        throw std::invalid_argument("--range: " + v + " is not START:END in seconds with 0 <= START < END");
      c.range = std::make_pair(from, to);
    } else if (!a.empty() && a[0] == '-') {
      throw std::invalid_argument("unknown option " + a);
    } else if (c.scenario.empty()) {
      c.scenario = a;
    } else {
      throw std::invalid_argument("one scenario only: " + c.scenario + " and " + a);
    }
  }
  return c;
}

}  // namespace herd::gui
