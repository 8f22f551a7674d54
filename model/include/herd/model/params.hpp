#pragma once
// Every scenario key is declared once, here-shaped: its path, type, unit, default and description.
// The same table validates input (unknown keys, types, units, ranges), fills defaults, prints
// `herd scenario --describe`, and generates docs/scenarios.md.
//
// Paths are dotted ("plan.tp"). "[]" stands for any element of an array
// ("run.batch_schedule[].seq_len") and "*" for any key of a map ("reliability.failures.*.rate").
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/units.hpp"

namespace herd::model {

enum class ParamType {
  integer,      ///< JSON integer (a count string such as "16Mi" is accepted too)
  number,       ///< JSON number
  boolean,
  string,
  choice,       ///< one of `choices`
  quantity,     ///< number in base units or a string with a unit of `dimension`
  string_list,  ///< array of strings (each one of `choices` when choices are given)
  integer_list, ///< array of integers (each in `range`)
  array,        ///< array of objects whose keys are declared under "<path>[]"
  map,          ///< object with user-chosen keys whose values are declared under "<path>.*"
  object,       ///< free-form object, validated where it is used (e.g. per-phase overrides)
};

enum class Range { any, positive, non_negative, fraction, unit_fraction, at_least_one };  // unit_fraction: (0, 1]

struct ParamDecl {
  std::string_view path;
  ParamType type;
  std::string_view default_json;  ///< JSON text of the default; "" = no default (absent unless given)
  std::string_view description;   ///< one sentence; says where a default comes from
  Dimension dimension = Dimension::count;
  Range range = Range::any;
  std::string_view choices = {};  ///< "a|b|c" for choice and string_list
};

/// The whole table, in section order (cluster, model, plan, run, reliability, top level).
std::span<const ParamDecl> scenario_params();

/// The declaration matching a JSON pointer ("/run/batch_schedule/2/seq_len" matches
/// "run.batch_schedule[].seq_len"), or nullptr.
const ParamDecl* find_param(std::string_view json_pointer);

/// Validates `doc` against the table: unknown keys (with the closest known key suggested), types,
/// units, ranges and choices. Throws ValueError naming the JSON pointer of the first problem.
void validate_against_schema(const nlohmann::json& doc);

/// Reads values with defaults from a validated document, converting quantities to SI.
/// Pointers are RFC 6901 ("/plan/tp"); each must match a declaration.
class ParamReader {
 public:
  explicit ParamReader(const nlohmann::json& doc) : doc_(doc) {}
  bool has(std::string_view pointer) const;  ///< given, or has a non-null default
  long long integer(std::string_view pointer) const;
  double number(std::string_view pointer) const;  ///< numbers and quantities (SI)
  bool boolean(std::string_view pointer) const;
  std::string string(std::string_view pointer) const;  ///< strings and choices
  std::vector<std::string> strings(std::string_view pointer) const;
  std::vector<long long> integers(std::string_view pointer) const;
  nlohmann::json raw(std::string_view pointer) const;  ///< given value, else the default (null if none)
  const nlohmann::json& doc() const { return doc_; }

 private:
  const nlohmann::json& doc_;
};

/// Splits a choice list "a|b|c".
std::vector<std::string_view> split_choices(std::string_view choices);

/// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word` within a few edits, or "" when none is close.
std::string closest_spelling(std::string_view word, const std::vector<std::string>& candidates);

/// Renders the table: plain text for `--describe`, Markdown for docs/scenarios.md.
std::string describe_params(bool markdown);

}  // namespace herd::model
