#pragma once
// What a command line that does not parse gets told: a usage line when the program runs bare, the
// command or flag it most likely meant when one is mistyped. Shared by `herd` and `herd-calibrate`
// (header-only: both link CLI11 privately).
#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "herd/model/params.hpp"

namespace herd::cli {

/// "usage: herd <command> [SCENARIO] [--set k=v]... (commands: model, simulate, ...; herd --help)".
inline std::string usage_line(const CLI::App& app, const std::string& program, const std::string& arguments) {
  std::string commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands += (commands.empty() ? "" : ", ") + sub->get_name();
  return "usage: " + program + " <command> " + arguments + " (commands: " + commands + "; " + program + " --help for more)";
}

/// The message for `e`, with the command or flag `args` most likely meant when one is unknown.
inline std::string explain_parse_error(const CLI::App& app, const std::vector<std::string>& args, const CLI::ParseError& e,
                                       const std::string& program, const std::string& arguments) {
  if (args.empty()) return usage_line(app, program, arguments);
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sub->get_name());
  const std::string& first = args.front();
  const bool known_command = std::find(commands.begin(), commands.end(), first) != commands.end();
  if (!known_command && !first.empty() && first.front() != '-') {
    const std::string guess = model::closest_spelling(first, commands);
    return "unknown command \"" + first + "\"" + (guess.empty() ? "" : " (did you mean \"" + guess + "\"?)") + "; " +
           usage_line(app, program, arguments);
  }
  std::string message = e.what();
  if (!known_command) return message;
  const auto named = app.get_subcommands([&](const CLI::App* sub) { return sub->get_name() == first; });
  if (named.empty()) return message;
  const CLI::App* command = named.front();
  std::vector<std::string> flags;
  for (const CLI::Option* o : command->get_options())
    for (const std::string& name : o->get_lnames()) flags.push_back("--" + name);
  for (const std::string& arg : args) {
    if (arg.rfind("--", 0) != 0) continue;
    const std::string flag = arg.substr(0, arg.find('='));
    if (std::find(flags.begin(), flags.end(), flag) != flags.end() || flag == "--help") continue;
    const std::string guess = model::closest_spelling(flag, flags);
    if (!guess.empty()) return message + " (did you mean " + guess + "?)";
  }
  return message;
}

}  // namespace herd::cli
