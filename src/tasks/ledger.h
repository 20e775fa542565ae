// Ledger: every user's credits (../shared/docs/API.md "Tasks and credits"), exact, in integer
// milli-credits (1 credit = 1000). An account has a balance and a held part (set aside for tasks
// that are queued or running); a charge or a hold may take only what is not held, so a balance
// never goes negative, also under any number of concurrent callers on any number of nodes (the
// store's guarded UPDATE decides; its CHECKs are the last line). Every change of a balance
// writes a ledger entry, so the sum of a user's entries is their balance.
//
// Tasks hold their cost when queued (hold_in, inside the transaction that stores the task),
// and settle it when they end: charged on success, released on failure or cancel
// (settle_in). A hold is keyed by its task and settles once: settling again is a no-op that
// says so, which makes a task's completion idempotent (a redelivered task is never charged
// twice).
//
// Thread-safe. Methods block on the store: never call them on an I/O thread. Errors: kNotFound
// for an unknown user; kInvalidArgument names the field (an amount of 0, a reason too long);
// kFailedPrecondition when a negative correction would take what the user does not have, or
// is held; kUnavailable when the store is. Being short of credits is not an error: the result
// says so (the API answers 402 with the balance and the cost).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/database.h"

namespace vigil::tasks {

struct Account {
  int64_t user_id = 0;
  int64_t balance = 0;  // milli-credits
  int64_t held = 0;
  int64_t available() const { return balance - held; }
};

struct Entry {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string at;
  int64_t amount = 0;  // + top-up, - charge or correction
  int64_t balance_after = 0;
  std::string reason;
  std::optional<int64_t> task_id;
  std::optional<int64_t> by_user;  // the admin of a top-up or correction
};

// The outcome of a charge or a hold: taken, or short (nothing changed).
struct Taken {
  bool ok = false;
  Account account;  // after (when ok) or as it was (when short)
  int64_t cost = 0;
};

enum class Settle { kCharge, kRelease };

class Ledger {
 public:
  using Now = std::function<std::chrono::system_clock::time_point()>;
  explicit Ledger(store::Database& db, Now now = nullptr);

  // The user's account (all zero when nothing was ever credited).
  Expected<Account> account(int64_t user_id);
  // Newest first, before entry id `before_id` (0: from the newest).
  Expected<std::vector<Entry>> entries(int64_t user_id, int limit, int64_t before_id = 0);

  // An admin's top-up (amount > 0) or correction (amount < 0; it may not take held credits or
  // go below zero: kFailedPrecondition).
  Expected<Entry> adjust(int64_t user_id, int64_t amount, const std::string& reason,
                         int64_t by_user);
  // Takes `cost` now, with the entry `reason` (synchronous predictions). A cost of 0 takes
  // nothing and writes nothing.
  Expected<Taken> charge(int64_t user_id, int64_t cost, const std::string& reason);

  // Inside the caller's write transaction: sets `cost` aside for `task_id`. Short: nothing
  // changes (Taken.ok false). A second hold for the same task is kAlreadyExists.
  Expected<Taken> hold_in(store::Session& s, int64_t user_id, int64_t task_id, int64_t cost);
  // Inside the caller's write transaction: charges (an entry of -cost with `reason`) or
  // releases the task's hold. Returns whether it settled now: false when it was settled before
  // or there is none (a task of cost 0 holds nothing).
  Expected<bool> settle_in(store::Session& s, int64_t task_id, Settle how,
                           const std::string& reason);

 private:
  store::Database& db_;
  Now now_;
};

// Credits as the API writes them: a JSON number of credits with up to 3 decimals ("1.5" is
// 1500 milli-credits). parse: kInvalidArgument for more decimals, non-finite or out of range
// (|credits| > 1e12).
Expected<int64_t> milli_from_credits(double credits);
double credits_from_milli(int64_t milli);

}  // namespace vigil::tasks
