#pragma once
// Standard input replaced by a text while a StdinFrom lives, for tests of "-" as an input file.
#include <iostream>
#include <sstream>
#include <string>

struct StdinFrom {
  std::istringstream text;
  std::streambuf* saved;
  explicit StdinFrom(const std::string& t) : text(t), saved(std::cin.rdbuf(text.rdbuf())) {}
  ~StdinFrom() {
    std::cin.rdbuf(saved);
    std::cin.clear();
  }
};
