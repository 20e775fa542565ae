// Credits over HTTP (API.md "Tasks and credits"): a caller's balance, their ledger (an admin may
// read anyone's with ?user=), and an admin's top-up or correction of a user's credits. Amounts
// are credits with up to 3 decimals (exact milli-credits inside); the rules live in
// tasks::Ledger.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>

#include "core/blocking_pool.h"
#include "net/router.h"
#include "tasks/ledger.h"

namespace vigil::api {

struct CreditDeps {
  tasks::Ledger* ledger = nullptr;
  BlockingPool* blocking = nullptr;
};

void add_credit_routes(net::Router& router, CreditDeps deps);

// What a priced prediction costs: price_per_row (credits) × rows, in milli-credits.
int64_t prediction_cost(double price_per_row, size_t rows);

// Charges the caller `cost` milli-credits for `what` on the blocking pool, then calls
// run(refund); answers 402 (respond_short) instead when the caller is short. `run` calls
// refund() if the work then fails, which gives the cost back (a ledger entry "refund: …").
// A cost of 0, or no ledger, charges nothing and calls run at once.
void charge_then(const CreditDeps& d, const std::shared_ptr<net::Exchange>& ex, int64_t cost,
                 std::string what, std::function<void(std::function<void()> refund)> run);

// {balance, held, available} in credits: what GET /credits answers and a 402 carries.
boost::json::object account_json(const tasks::Account& a);
// Answers 402: not enough credits for `cost` (milli-credits), with the balance and the cost.
void respond_short(net::Exchange& ex, const tasks::Taken& t);

}  // namespace vigil::api
