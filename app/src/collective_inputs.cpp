#include "herd/app/collective_inputs.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <optional>
#include <sstream>
#include <utility>

#include "herd/model/error.hpp"
#include "herd/model/units.hpp"

namespace herd::app {

namespace {

[[noreturn]] void bad_option(const std::string& option, const std::string& message) {
  throw model::InputError(option, "", message);
}

}  // namespace

int dtype_bytes(const std::string& dtype) {
  if (dtype == "float" || dtype == "int32") return 4;
  if (dtype == "half" || dtype == "bfloat16" || dtype == "bf16") return 2;
  if (dtype == "double" || dtype == "int64") return 8;
  if (dtype == "int8" || dtype == "uint8" || dtype == "fp8") return 1;
  bad_option("--dtype", "unknown type \"" + dtype + "\" (float, half, bfloat16, double, int8)");
}

// nccl-tests' sizes: "8K", "128M", "1G", "2T" are powers of 1024 (its parsesize).
std::optional<double> nccl_tests_size(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  static constexpr std::pair<char, double> kSuffixes[] = {{'K', 0x1p10}, {'M', 0x1p20}, {'G', 0x1p30}, {'T', 0x1p40}};
  const char last = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
  for (const auto& [suffix, scale] : kSuffixes) {
    if (last != suffix) continue;
    const std::string number = text.substr(0, text.size() - 1);
    if (number.empty() || !std::isdigit(static_cast<unsigned char>(number.back()))) return std::nullopt;
    const auto value = model::parse_quantity(number, model::Dimension::bytes);
    if (!value) return std::nullopt;
    return *value * scale;
  }
  return std::nullopt;
}

double parse_size(const std::string& option, const std::string& text) {
  auto bytes = model::parse_quantity(text, model::Dimension::bytes);
  if (!bytes) bytes = nccl_tests_size(text);
  if (!bytes || !(*bytes >= 0)) bad_option(option, "\"" + text + "\" is not a size (e.g. 1GiB, 128M, 8B, 256MB)");
  if (*bytes >= 0x1p63) bad_option(option, "\"" + text + "\" is too large (sizes stop below 2^63 bytes)");
  return *bytes;
}

std::vector<double> parse_sweep(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) bad_option("--sweep", "expects MIN:MAX, e.g. 8B:16GiB");
  const double lo = parse_size("--sweep", text.substr(0, colon)), hi = parse_size("--sweep", text.substr(colon + 1));
  if (!(lo > 0) || hi < lo) bad_option("--sweep", "needs 0 < MIN <= MAX");
  std::vector<double> sizes;
  // The tolerance keeps MAX when it is MIN times a power of two up to rounding.
  for (double s = lo; s <= hi * (1 + 1e-12); s *= 2) sizes.push_back(s);
  return sizes;
}

std::vector<double> parse_size_flags(const SizeFlags& f) {
  if (!f.step_factor.empty() && !f.step_bytes.empty())
    bad_option("--stepfactor", "takes no --stepbytes (-i) with it: sizes grow by one or the other");
  if (f.min_bytes.empty() && f.max_bytes.empty())
    bad_option(f.step_factor.empty() ? "--stepbytes" : "--stepfactor", "needs --minbytes (-b) and --maxbytes (-e)");
  const double lo = parse_size("--minbytes", f.min_bytes.empty() ? f.max_bytes : f.min_bytes);
  const double hi = parse_size("--maxbytes", f.max_bytes.empty() ? f.min_bytes : f.max_bytes);
  if (!(lo >= 1)) bad_option("--minbytes", "needs at least 1 byte");
  if (hi < lo) bad_option("--maxbytes", "is below --minbytes");
  double factor = 2, step = 0;
  if (!f.step_bytes.empty()) {
    step = parse_size("--stepbytes", f.step_bytes);
    if (!(step >= 1)) bad_option("--stepbytes", "needs at least 1 byte");
  } else if (!f.step_factor.empty()) {
    const char* end = f.step_factor.data() + f.step_factor.size();
    const auto [stop, ec] = std::from_chars(f.step_factor.data(), end, factor);
    if (ec != std::errc() || stop != end || !(factor > 1) || !std::isfinite(factor))
      bad_option("--stepfactor", "\"" + f.step_factor + "\" is not a factor above 1 (e.g. 2)");
  }
  std::vector<double> sizes;
  for (double s = std::floor(lo); s <= hi; s = std::floor(step > 0 ? s + step : s * factor)) {
    if (sizes.size() == kMaxSweepSizes)
      bad_option(step > 0 ? "--stepbytes" : "--stepfactor",
                 "gives more than " + std::to_string(kMaxSweepSizes) + " sizes from --minbytes to --maxbytes");
    if (!sizes.empty() && s <= sizes.back()) s = sizes.back() + 1;  // a factor just above 1 still moves on
    if (s > hi) break;
    sizes.push_back(s);
  }
  return sizes;
}

std::vector<int> parse_ranks(const std::string& text, int ranks, const std::string& option) {
  // Ranges are checked before they are expanded: a GUI field may hold "0-2000000000" for a moment.
  std::vector<std::pair<int, int>> ranges;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto dash = item.find('-');
    // Whole decimal numbers only: stoi would read "1e3" as 1 and "2.5" as 2.
    const auto whole = [](const std::string& t) {
      return !t.empty() && t.size() <= 18 && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    // Beyond int is beyond every plan: the range check below names it.
    const auto rank = [](const std::string& t) { return static_cast<int>(std::min<long long>(std::stoll(t), INT_MAX)); };
    const std::string first = item.substr(0, dash), last = dash == std::string::npos ? first : item.substr(dash + 1);
    if (!whole(first) || !whole(last)) bad_option(option, "\"" + item + "\" is not a rank or a range a-b");
    ranges.emplace_back(rank(first), rank(last));
  }
  std::vector<int> out;
  for (const auto& [a, b] : ranges) {
    if (a > b) continue;
    if (a < 0 || b >= ranks)
      bad_option(option, "rank " + std::to_string(a < 0 ? a : std::max(a, ranks)) + " is not among the plan's " +
                                std::to_string(ranks));
    for (int r = a; r <= b; ++r) out.push_back(r);
  }
  std::vector<int> sorted = out;
  std::sort(sorted.begin(), sorted.end());
  if (auto d = std::adjacent_find(sorted.begin(), sorted.end()); d != sorted.end())
    bad_option(option, "rank " + std::to_string(*d) + " is named twice");
  if (out.empty()) bad_option(option, "names no rank");
  return out;
}

}  // namespace herd::app
