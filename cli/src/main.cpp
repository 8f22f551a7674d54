#include <iostream>

#include "herd/cli/app.hpp"
#include "herd/model/io.hpp"

int main(int argc, char** argv) {
  herd::model::remove_temporary_files_on_signal();
  return herd::cli::run(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
