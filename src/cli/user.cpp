#include <cstdio>
#include <iostream>

#include <unistd.h>

#include "app/app.h"
#include "auth/account_service.h"
#include "auth/user_store.h"
#include "cli/common.h"

namespace vigil::cli {
namespace {

// --password, else one line from standard input.
std::string read_password(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (isatty(STDIN_FILENO)) std::fprintf(stderr, "password: ");
  std::string line;
  std::getline(std::cin, line);
  return line;
}

// AccountService over the configured store, for one command. The CLI signs nobody in and its
// caches die with the process: the limiter and caches only complete the service.
class CliAccounts {
 public:
  CliAccounts(store::Database& db, const Config& config)
      : users_(db, app::password_params(config)),
        tokens_(db, std::chrono::seconds(config.get_int("auth.token_ttl_s"))),
        limiter_(1, 1, std::chrono::seconds(1)),
        service_(db, users_, tokens_, basic_, limiter_) {}
  auth::AccountService& operator*() { return service_; }
  auth::AccountService* operator->() { return &service_; }

 private:
  auth::UserStore users_;
  auth::TokenService tokens_;
  auth::BasicAuthCache basic_;
  auth::LoginLimiter limiter_;
  auth::AccountService service_;
};

}  // namespace

void add_user_command(CLI::App& app, CommonOptions& common, int& exit_code) {
  auto* user = app.add_subcommand("user", "Manage user accounts in the configured store");
  user->require_subcommand(1);
  static std::string email, role = "user", name, password, username;

  auto* add =
      user->add_subcommand("add", "Create a user (password from standard input, or --password)");
  add->add_option("EMAIL", email, "Email address")->required();
  add->add_option("--role", role, "admin, user or watchdog (default user)");
  add->add_option("--name", name, "Display name");
  auto* username_option = add->add_option(
      "--username", username,
      "Unique username (1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit; compared "
      "ignoring case): what a sleep record's user attribute names");
  add->add_option("--password", password, "Password (visible in the process list; prefer stdin)");
  add_common_options(*add, common);
  add->callback([&common, &exit_code, username_option] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    CliAccounts accounts(*db, config);
    std::optional<std::string> given;
    if (username_option->count() > 0) given = username;
    auto created = accounts->create(email, read_password(password), name, role, given);
    if (!created.ok()) {
      exit_code = fail(created.status());
      return;
    }
    std::printf("created user %lld %s (%s)\n", static_cast<long long>(created->id),
                created->email.c_str(), created->role.c_str());
  });

  auto* list = user->add_subcommand("list", "List users");
  add_common_options(*list, common);
  list->callback([&common, &exit_code] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    auth::UserStore users(*db);
    int64_t after = 0;
    std::printf("%-6s %-32s %-20s %-9s %-8s %s\n", "id", "email", "username", "role", "state",
                "created");
    while (true) {
      auto page = users.list(after, 500);
      if (!page.ok()) {
        exit_code = fail(page.status());
        return;
      }
      for (const auto& u : page->items) {
        std::printf("%-6lld %-32s %-20s %-9s %-8s %s\n", static_cast<long long>(u.id),
                    u.email.c_str(), u.username ? u.username->c_str() : "-", u.role.c_str(),
                    u.disabled ? "disabled" : "active", u.created_at.c_str());
      }
      if (!page->next_after) break;
      after = *page->next_after;
    }
  });

  auto* passwd = user->add_subcommand("passwd", "Set a user's password");
  passwd->add_option("EMAIL", email, "Email address")->required();
  passwd->add_option("--password", password, "New password (prefer stdin)");
  add_common_options(*passwd, common);
  passwd->callback([&common, &exit_code] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    CliAccounts accounts(*db, config);
    if (Status s = accounts->set_password(email, read_password(password)); !s.ok()) {
      exit_code = fail(s);
      return;
    }
    std::printf("password of %s changed\n", email.c_str());
  });

  static std::string new_role;
  auto* role_cmd = user->add_subcommand("role", "Change a user's role");
  role_cmd->add_option("EMAIL", email, "Email address")->required();
  role_cmd->add_option("ROLE", new_role, "admin, user or watchdog")->required();
  add_common_options(*role_cmd, common);
  role_cmd->callback([&common, &exit_code] {
    Config config;
    auto db = open_store(common, exit_code, config);
    if (!db) return;
    CliAccounts accounts(*db, config);
    auto changed = accounts->set_role(email, new_role);
    if (!changed.ok()) {
      exit_code = fail(changed.status());
      return;
    }
    std::printf("%s is now %s\n", changed->email.c_str(), changed->role.c_str());
  });
}

}  // namespace vigil::cli
