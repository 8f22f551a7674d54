#include "herd/gui/main_window.hpp"
#include "herd/model/io.hpp"

int main(int argc, char** argv) {
  herd::model::remove_temporary_files_on_signal();
  return herd::gui::gui_main(argc, argv);
}
