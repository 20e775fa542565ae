// POST /api/v1/predict/{name}: predictions with named features, one row ({features:{…}}) or
// several ({rows:[{…}]}), with per-feature contributions on ?explain=true. API.md "Inference".
#pragma once

#include "api/credits.h"
#include "net/router.h"
#include "serving/model_server.h"
#include "serving/named_rows.h"

namespace vigil::api {

struct PredictDeps {
  serving::ModelServer* server = nullptr;
  CreditDeps credits;  // priced models (metadata price_per_row) charge the caller per row
  size_t max_rows = 10000;
  int64_t max_body_bytes = 64 << 20;
};

void add_predict_routes(net::Router& router, PredictDeps deps);

// Answers 422 naming every issue of named rows (serving::to_matrix), the first in the detail.
void respond_issues(net::Exchange& ex, const std::vector<serving::FieldIssue>& issues);

}  // namespace vigil::api
