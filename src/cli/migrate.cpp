#include <cstdio>

#include "app/app.h"
#include "cli/common.h"
#include "store/migrations.h"

namespace vigil::cli {

void add_migrate_command(CLI::App& app, CommonOptions& common, int& exit_code) {
  auto* migrate = app.add_subcommand("migrate", "Apply, revert or list schema migrations");
  migrate->require_subcommand(1);
  static int up_target = 0;
  static int down_steps = 1;

  auto with_migrator = [&common, &exit_code](auto&& fn) {
    auto config = load_config(common);
    if (!config.ok()) {
      std::fprintf(stderr, "vigil: %s\n", config.status().message().c_str());
      exit_code = 2;
      return;
    }
    auto db = app::open_configured_database(*config);
    if (!db.ok()) {
      std::fprintf(stderr, "vigil: %s\n", db.status().to_string().c_str());
      exit_code = 1;
      return;
    }
    store::Migrator migrator(**db);
    exit_code = fn(migrator);
  };

  auto* up = migrate->add_subcommand("up", "Apply pending migrations (up to version N)");
  up->add_option("N", up_target, "Stop at this version (default: latest)");
  add_common_options(*up, common);
  up->callback([with_migrator] {
    with_migrator([](store::Migrator& m) {
      auto ran = m.up(up_target);
      if (!ran.ok()) {
        std::fprintf(stderr, "vigil: %s\n", ran.status().to_string().c_str());
        return 1;
      }
      auto v = m.current_version();
      std::printf("applied %d migration(s); schema version %d\n", *ran, v.ok() ? *v : -1);
      return 0;
    });
  });

  auto* down = migrate->add_subcommand("down", "Revert the last N applied migrations (default 1)");
  down->add_option("N", down_steps, "How many to revert")->check(CLI::PositiveNumber);
  add_common_options(*down, common);
  down->callback([with_migrator] {
    with_migrator([](store::Migrator& m) {
      auto ran = m.down(down_steps);
      if (!ran.ok()) {
        std::fprintf(stderr, "vigil: %s\n", ran.status().to_string().c_str());
        return 1;
      }
      auto v = m.current_version();
      std::printf("reverted %d migration(s); schema version %d\n", *ran, v.ok() ? *v : -1);
      return 0;
    });
  });

  auto* status = migrate->add_subcommand("status", "List known migrations and which are applied");
  add_common_options(*status, common);
  status->callback([with_migrator] {
    with_migrator([](store::Migrator& m) {
      auto states = m.status();
      if (!states.ok()) {
        std::fprintf(stderr, "vigil: %s\n", states.status().to_string().c_str());
        return 1;
      }
      for (const auto& s : *states) {
        std::printf("%04d  %-24s  %s\n", s.version, s.name.c_str(),
                    s.applied ? ("applied " + s.applied_at).c_str() : "pending");
      }
      return 0;
    });
  });
}

}  // namespace vigil::cli
