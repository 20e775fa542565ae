// The C++ steps of embedded migrations: what a migration needs and SQL cannot compute, run after
// its up script in the same transaction (Migration::up_step). Internal to src/store/.
#pragma once

#include <functional>
#include <string_view>

#include "core/status.h"
#include "store/database.h"

namespace vigil::store::detail {

// The step of the migration named `migration_name` ("email_key" for 0008_email_key), or an
// empty function when it has none.
std::function<Status(Session&)> embedded_up_step(std::string_view migration_name);

// email_key: fills users.email_key of every account with core/unicode.h's caseless_key of its
// email. kFailedPrecondition naming the accounts, changing nothing, when an email is not
// well-formed UTF-8 or two emails have one key: which account stays is the operator's call.
Status fill_email_keys(Session& session);

}  // namespace vigil::store::detail
