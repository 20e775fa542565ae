// vigil parse-record FILE --max-memory N, or --serve: the record collector's child process
// (records/record_parser.h). Hidden from --help: the server runs it, people do not.
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "cli/common.h"
#include "records/record_parser.h"

namespace vigil::cli {

void add_parse_record_command(CLI::App& app, int& exit_code) {
  static std::string path;
  static size_t max_memory = size_t{2} << 30;
  static bool serve = false;
  auto* cmd = app.add_subcommand("parse-record",
                                 "Parse one sleep-record file and write it to stdout in the "
                                 "collector's wire form (run by the server)");
  cmd->group("");  // hidden
  auto* file = cmd->add_option("file", path, "The HDF5 record");
  cmd->add_flag("--serve", serve,
                "Parse the files named on stdin, one answer each on stdout, framed")
      ->excludes(file);
  cmd->add_option("--max-memory", max_memory, "Address space cap in bytes (0: none)");
  cmd->callback([&exit_code] {
    if (serve) {
      exit_code = records::serve_parse_records(STDIN_FILENO, STDOUT_FILENO, max_memory);
    } else if (path.empty()) {
      std::fprintf(stderr, "parse-record: a FILE or --serve\n");
      exit_code = 2;
    } else {
      exit_code = records::run_parse_record(path, max_memory, STDOUT_FILENO);
    }
  });
}

}  // namespace vigil::cli
