// nccl-tests output, as printed. Every data row ends with eight columns, out-of-place then in-place
// (time in us, algbw and busbw in GB/s, #wrong or error), whatever columns precede them in the
// version at hand (size count type [redop [root]]), so rows are read from both ends.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "herd/calibrate/import.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::calibrate {

double bus_bandwidth_factor(std::string_view c, int n) {
  const double ranks = std::max(1, n);
  if (c == "all_reduce") return 2 * (ranks - 1) / ranks;
  if (c == "all_gather" || c == "reduce_scatter" || c == "all_to_all") return (ranks - 1) / ranks;
  return 1;
}

namespace {

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

bool parse_number(const std::string& t, double& out) {
  try {
    std::size_t used = 0;
    out = std::stod(t, &used);
    return used == t.size();
  } catch (const std::exception&) {
    return false;
  }
}

// "all_reduce_perf" -> "all_reduce"; "" when `text` names no test this importer knows.
std::string collective_named_in(const std::string& text) {
  static constexpr std::pair<const char*, const char*> kTests[] = {
      {"all_reduce", "all_reduce"},     {"allreduce", "all_reduce"},   {"all_gather", "all_gather"},
      {"allgather", "all_gather"},      {"reduce_scatter", "reduce_scatter"}, {"reducescatter", "reduce_scatter"},
      {"broadcast", "broadcast"},       {"sendrecv", "send_recv"},     {"send_recv", "send_recv"},
      {"alltoall", "all_to_all"},       {"all_to_all", "all_to_all"},  {"reduce_perf", "reduce"}};
  for (const auto& [needle, name] : kTests)
    if (text.find(needle) != std::string::npos) return name;
  return "";
}

}  // namespace

MeasurementSet import_nccl_tests(std::string_view text, const std::string& source_name, std::string collective) {
  if (auto bad = model::utf8_error(text); !bad.empty()) throw model::InputError(source_name, "", bad + ": not nccl-tests output");
  MeasurementSet set;
  set.device.backend = "nccl-tests";
  std::set<std::string> hosts;
  std::set<std::string> rank_ids;  // distinct: MPI runs may print a rank's line more than once
  std::string announced;
  struct Row {
    int line;
    double bytes, time_us[2], algbw[2], busbw[2];
    std::string dtype;
  };
  std::vector<Row> rows;
  std::istringstream in{std::string(text)};
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const auto tokens = split(line);
    if (tokens.empty()) continue;
    if (tokens[0] == "#" || tokens[0][0] == '#') {
      if (line.find("Collective test starting") != std::string::npos) announced = collective_named_in(line);
      const auto rank = std::find(tokens.begin(), tokens.end(), "Rank");
      const auto on = std::find(tokens.begin(), tokens.end(), "on");
      if (rank != tokens.end() && rank + 1 != tokens.end() && on != tokens.end() && on + 1 != tokens.end()) {
        rank_ids.insert(*(rank + 1));
        hosts.insert(*(on + 1));
        const auto bracket = line.find(']');
        if (set.device.name.empty() && bracket != std::string::npos) {
          const auto start = line.find_first_not_of(' ', bracket + 1);
          if (start != std::string::npos) set.device.name = line.substr(start);
        }
      }
      continue;
    }
    double bytes = 0;
    if (!parse_number(tokens[0], bytes)) continue;  // NCCL INFO lines and the like
    if (tokens.size() < 10)
      throw model::ValueError("", "line " + std::to_string(number) + ": expected size, count, type and 8 timing columns");
    Row r{number, bytes, {}, {}, {}, tokens[2]};
    const std::size_t lead = tokens.size() - 8;
    // Out-of-place must be there; in-place may read "N/A" (a transcription of one curve).
    for (int half = 0; half < 2; ++half) {
      const std::size_t at = lead + 4 * static_cast<std::size_t>(half);
      const bool ok = parse_number(tokens[at], r.time_us[half]) && parse_number(tokens[at + 1], r.algbw[half]) &&
                      parse_number(tokens[at + 2], r.busbw[half]);
      if (!ok && half == 0)
        throw model::ValueError("", "line " + std::to_string(number) + ": cannot read time, algbw and busbw");
      if (!ok) r.time_us[1] = 0;
    }
    if (bytes > 0 && r.time_us[0] > 0) rows.push_back(r);
  }
  if (rows.empty()) throw model::ValueError("", "no nccl-tests result rows (size count type ... time algbw busbw ...)");
  if (collective.empty()) collective = !announced.empty() ? announced : collective_named_in(source_name);
  if (collective.empty())
    throw model::ValueError("", "cannot tell which collective this is; name it (e.g. --collective all_reduce)");

  // Rank count: the "# Rank" lines, else what busbw / algbw of the largest row implies.
  int ranks = static_cast<int>(rank_ids.size());
  const Row& largest = *std::max_element(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.bytes < b.bytes; });
  const double ratio = largest.algbw[0] > 0 ? largest.busbw[0] / largest.algbw[0] : 0;
  if (ranks == 0 && ratio > 0) {
    if (collective == "all_reduce" && ratio < 2) ranks = static_cast<int>(std::lround(2 / (2 - ratio)));
    else if (ratio < 1) ranks = static_cast<int>(std::lround(1 / (1 - ratio)));
  }
  if (ranks == 0) throw model::ValueError("", "cannot tell how many ranks ran the test (no \"# Rank\" lines)");
  const double expected = bus_bandwidth_factor(collective, ranks);
  if (ratio > 0 && std::fabs(ratio / expected - 1) > 0.05)
    set.notes.push_back("busbw / algbw = " + std::to_string(ratio) + " but " + collective + " over " + std::to_string(ranks) +
                        " ranks implies " + std::to_string(expected) + ": is the collective right?");
  const int nodes = std::max<int>(1, static_cast<int>(hosts.size()));
  set.device.devices = ranks;
  set.device.details = {{"source", source_name}, {"nodes", nodes}, {"hosts", std::vector<std::string>(hosts.begin(), hosts.end())}};
  for (const Row& row : rows)
    for (int half = 0; half < 2; ++half) {
      if (row.time_us[half] <= 0) continue;
      Record r;
      r.kind = RecordKind::collective;
      r.op = collective;
      r.dtype = row.dtype;
      r.impl = "nccl-tests";
      r.collective = {row.bytes, ranks, nodes, half == 1};
      r.median_s = row.time_us[half] * 1e-6;
      set.records.push_back(r);
    }
  set.notes.push_back("imported from nccl-tests output " + source_name + " (" + std::to_string(rows.size()) +
                      " sizes; times are nccl-tests' averages over its iterations)");
  return set;
}

MeasurementSet import_nccl_tests_file(const std::filesystem::path& file, const std::string& collective) {
  const std::string text = model::read_text_file(file, "nccl-tests output");
  try {
    const std::string source = model::source_name(file);
    MeasurementSet set =
        import_nccl_tests(text, file.native() == model::kStdinFile ? source : file.filename().string(), collective);
    set.source = source;
    return set;
  } catch (const model::ValueError& e) {
    throw model::InputError(model::source_name(file), e.pointer(), e.message());
  }
}

}  // namespace herd::calibrate
