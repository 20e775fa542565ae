// The AccountService suite on a temporary SQLite file.
#include "auth/account_suite.h"
#include "support/temp_db.h"

namespace vigil::auth::testing {
namespace {

struct SqliteFileBackend {
  void set_up() {
    dir = vigil::testing::make_temp_dir("vigil-accounts-");
    ASSERT_FALSE(dir.empty()) << "mkdtemp failed";
  }
  void tear_down() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  std::string url() const { return "sqlite://" + (dir / "accounts.db").string(); }

  std::filesystem::path dir;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, AccountSuite, ::testing::Types<SqliteFileBackend>);

}  // namespace vigil::auth::testing
