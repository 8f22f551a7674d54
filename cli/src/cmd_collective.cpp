// herd collective: one NCCL collective over the plan's groups, simulated on the scenario's fabric,
// printed in nccl-tests' columns (size, count, type, time, algbw, busbw) with the algorithm the
// model chose, how many groups ran at once and the link that held them back.
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "commands.hpp"
#include "herd/engine/simulation.hpp"
#include "herd/model/error.hpp"
#include "herd/model/placement.hpp"
#include "herd/model/units.hpp"
#include "herd/sim/network/network.hpp"

namespace herd::cli {

namespace {

struct CollectiveCommand {
  ScenarioOptions options;
  std::string op = "all_reduce";
  std::string group = "dp";
  std::string bytes = "1GiB";
  std::string sweep;
  std::string dtype = "float";
  bool concurrent = false;
  bool json = false;
};

[[noreturn]] void bad_option(const std::string& option, const std::string& message) {
  throw model::InputError(option, "", message);
}

int dtype_bytes(const std::string& dtype) {
  if (dtype == "float" || dtype == "int32") return 4;
  if (dtype == "half" || dtype == "bfloat16" || dtype == "bf16") return 2;
  if (dtype == "double" || dtype == "int64") return 8;
  if (dtype == "int8" || dtype == "uint8" || dtype == "fp8") return 1;
  bad_option("--dtype", "unknown type \"" + dtype + "\" (float, half, bfloat16, double, int8)");
}

double parse_size(const std::string& option, const std::string& text) {
  const auto bytes = model::parse_quantity(text, model::Dimension::bytes);
  if (!bytes || *bytes < 0) bad_option(option, "\"" + text + "\" is not a size (e.g. 1GiB, 8B, 256MB)");
  return *bytes;
}

// Sizes of a sweep "MIN:MAX": MIN, 2 MIN, 4 MIN, ... up to MAX (nccl-tests -b MIN -e MAX -f 2).
std::vector<double> sizes_of(const CollectiveCommand& c) {
  if (c.sweep.empty()) return {parse_size("--bytes", c.bytes)};
  const auto colon = c.sweep.find(':');
  if (colon == std::string::npos) bad_option("--sweep", "expects MIN:MAX, e.g. 8B:16GiB");
  const double lo = parse_size("--sweep", c.sweep.substr(0, colon)), hi = parse_size("--sweep", c.sweep.substr(colon + 1));
  if (!(lo > 0) || hi < lo) bad_option("--sweep", "needs 0 < MIN <= MAX");
  std::vector<double> sizes;
  for (double s = lo; s <= hi * (1 + 1e-12); s *= 2) sizes.push_back(s);
  return sizes;
}

// "0-7", "0,8,16", "0-127,256": explicit ranks.
std::vector<int> parse_ranks(const std::string& text, int ranks) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto dash = item.find('-');
    try {
      const int a = std::stoi(item.substr(0, dash));
      const int b = dash == std::string::npos ? a : std::stoi(item.substr(dash + 1));
      for (int r = a; r <= b; ++r) out.push_back(r);
    } catch (const std::exception&) {
      bad_option("--group", "\"" + item + "\" is not a rank or a range a-b");
    }
  }
  for (const int r : out)
    if (r < 0 || r >= ranks) bad_option("--group", "rank " + std::to_string(r) + " is not among the plan's " + std::to_string(ranks));
  if (out.empty()) bad_option("--group", "names no rank");
  return out;
}

std::vector<std::vector<int>> groups_of(const CollectiveCommand& c, const model::RankLayout& layout) {
  using model::Axis;
  std::vector<std::vector<int>> groups;
  if (c.group == "tp" || c.group == "cp" || c.group == "pp" || c.group == "dp") {
    const Axis axis = c.group == "tp" ? Axis::tp : c.group == "cp" ? Axis::cp : c.group == "pp" ? Axis::pp : Axis::dp;
    groups = layout.groups(axis);
  } else if (c.group == "all") {
    const model::Axis every[] = {Axis::tp, Axis::cp, Axis::pp, Axis::dp};
    groups = layout.groups(every);
  } else {
    groups = {parse_ranks(c.group, layout.ranks())};
  }
  return groups;
}

struct Row {
  double bytes;
  sim::CollectiveResult result;
};

std::string fixed(double value, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

void print_text(std::ostream& out, const model::Scenario& s, const CollectiveCommand& c, std::size_t total_groups,
                const std::vector<std::vector<int>>& groups, const std::vector<Row>& rows, int type_bytes) {
  const auto& g = groups.front();
  out << s.name << "\n";
  out << c.op << " over " << (c.group.find_first_of("0123456789") == 0 ? "ranks " + c.group : c.group + " groups") << ": "
      << groups.size() << " of " << total_groups << " group" << (total_groups == 1 ? "" : "s") << " of " << g.size()
      << " ranks running concurrently" << (c.concurrent || total_groups == 1 ? "" : " (--concurrent runs them all)") << "\n\n";
  const char* head[] = {"size", "count", "type", "time(us)", "algbw(GB/s)", "busbw(GB/s)", "algorithm", "proto", "ch", "groups"};
  const std::size_t width[] = {12, 11, 8, 11, 11, 11, 12, 6, 3, 6};
  for (std::size_t i = 0; i < std::size(head); ++i) out << ' ' << pad(head[i], width[i], i < 6 || i > 7);
  out << "  bottleneck\n";
  for (const Row& row : rows) {
    const auto& r = row.result;
    const std::string cells[] = {std::to_string(static_cast<long long>(row.bytes)),
                                 std::to_string(static_cast<long long>(row.bytes / type_bytes)),
                                 c.dtype,
                                 fixed(r.time_s() * 1e6, 1),
                                 fixed(r.algbw() / 1e9, 2),
                                 fixed(r.busbw() / 1e9, 2),
                                 std::string(sim::to_string(r.algorithm)),
                                 std::string(sim::to_string(r.protocol)),
                                 std::to_string(r.channels),
                                 std::to_string(r.groups)};
    for (std::size_t i = 0; i < std::size(cells); ++i) out << ' ' << pad(cells[i], width[i], i < 6 || i > 7);
    out << "  " << (r.bottleneck_name.empty() ? "-" : r.bottleneck_name) << "\n";
  }
}

nlohmann::json to_json(const model::Scenario& s, const CollectiveCommand& c, std::size_t total_groups,
                       const std::vector<std::vector<int>>& groups, const std::vector<Row>& rows, int type_bytes) {
  nlohmann::json j = {{"scenario", s.name},
                      {"op", c.op},
                      {"group", c.group},
                      {"groups_total", total_groups},
                      {"groups_concurrent", groups.size()},
                      {"ranks_per_group", groups.front().size()},
                      {"first_group", groups.front()},
                      {"type", c.dtype},
                      {"results", nlohmann::json::array()}};
  for (const Row& row : rows) {
    const auto& r = row.result;
    j["results"].push_back({{"bytes", row.bytes},
                            {"count", static_cast<long long>(row.bytes / type_bytes)},
                            {"time_us", r.time_s() * 1e6},
                            {"algbw_gbs", r.algbw() / 1e9},
                            {"busbw_gbs", r.busbw() / 1e9},
                            {"algorithm", sim::to_string(r.algorithm)},
                            {"protocol", sim::to_string(r.protocol)},
                            {"channels", r.channels},
                            {"latency_us", r.latency_s * 1e6},
                            {"uncontended_time_us", r.uncontended_time_s * 1e6},
                            {"bottleneck", r.bottleneck_name}});
  }
  return j;
}

int run_command(const CollectiveCommand& c, Streams io) {
  const model::Scenario s = c.options.load();
  const auto op = model::parse_collective(c.op);
  if (!op) bad_option("--op", "unknown collective \"" + c.op + "\" (all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv)");
  const int type_bytes = dtype_bytes(c.dtype);
  const auto sizes = sizes_of(c);
  std::shared_ptr<const sim::Fabric> fabric;
  std::optional<model::RankLayout> layout;
  try {
    fabric = std::make_shared<const sim::Fabric>(s.cluster);
    layout.emplace(s.plan, s.cluster);
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  }
  auto groups = groups_of(c, *layout);
  const std::size_t total = groups.size();
  if (!c.concurrent) groups.resize(1);  // the group of rank 0
  std::vector<Row> rows;
  for (const double bytes : sizes) {
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    Row row{bytes, {}};
    network.start_collective({*op, groups, bytes}, [&](const sim::CollectiveResult& r) { row.result = r; });
    simulation.run();
    rows.push_back(std::move(row));
  }
  if (c.json) io.out << to_json(s, c, total, groups, rows, type_bytes).dump(2) << "\n";
  else print_text(io.out, s, c, total, groups, rows, type_bytes);
  return kExitOk;
}

}  // namespace

Action add_collective_command(CLI::App& app) {
  auto state = std::make_shared<CollectiveCommand>();
  auto* cmd = app.add_subcommand("collective", "Simulate an NCCL collective over the plan's groups (nccl-tests columns)");
  state->options.add_to(*cmd);
  cmd->add_option("--op", state->op, "all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv")
      ->capture_default_str();
  cmd->add_option("--group", state->group, "dp, tp, pp, cp, all, or ranks such as 0-7 or 0,128,256")->capture_default_str();
  auto* bytes = cmd->add_option("--bytes", state->bytes, "Size per rank, nccl-tests convention")->capture_default_str();
  cmd->add_option("--sweep", state->sweep, "Sizes MIN:MAX, doubling (e.g. 8B:16GiB)")->excludes(bytes);
  cmd->add_option("--dtype", state->dtype, "Element type for the count column")->capture_default_str();
  cmd->add_flag("--concurrent", state->concurrent, "Run every group of that kind at once, as a training step does");
  cmd->add_flag("--json", state->json, "Print the results as JSON (schema in docs/models/network.md)");
  return [state](Streams io) { return run_command(*state, io); };
}

}  // namespace herd::cli
