#pragma once
// `herd-gui [SCENARIO] [--set k=v]... [--per-rank] [--compare k=v]... [--compare-step k=v]... [--nccl-log FILE]
//           [--screenshot VIEW FILE] [--size WxH] [--range A:B]`, parsed without Qt so it is tested alone.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace herd::gui {

/// What --screenshot renders: a view (the tabs' order), or the whole window on the step timeline.
inline constexpr const char* kViews[] = {"timeline", "breakdown", "run", "collectives", "explorer", "window"};

struct CommandLine {
  std::string scenario;                 ///< file, built-in scenario or model preset; "" the default
  std::vector<std::string> sets;        ///< --set overrides, as `herd` takes them
  bool per_rank = false;
  std::vector<std::string> compare;     ///< run B of the run view: A's overrides plus these
  std::vector<std::string> compare_step;  ///< step B of the step timeline: A's overrides plus these
  std::string nccl_log;                 ///< nccl-tests output to overlay on the collectives view
  std::string search;                   ///< the plan explorer's search space ("tp=4,8 pp=8,16")
  std::optional<int> trials;            ///< run view: Monte Carlo trials (default: the scenario's)
  std::string screenshot_view, screenshot_file;  ///< render VIEW into FILE and exit
  int width = 1600, height = 1000;      ///< window size (screenshots)
  std::optional<std::pair<double, double>> range;  ///< step timeline: seconds shown (--range A:B)
  bool help = false;
  bool version = false;  ///< --version: print "herd-gui 0.1.0" and exit
};

/// Overrides typed in one line, "k=v k2=v2": split at spaces, except that a word without '=' belongs
/// to the value before it ("cluster.nic.bandwidth=200 Gbps plan.tp=4" is two overrides).
std::vector<std::string> split_overrides(const std::string& text);
/// The same, written back: "k=v k2=v2".
std::string join_overrides(const std::vector<std::string>& overrides);

/// Throws std::invalid_argument with the message to print for a bad command line.
CommandLine parse_command_line(const std::vector<std::string>& args);
std::string usage();

}  // namespace herd::gui
