#pragma once
// The one place where Status codes become HTTP statuses (Vault's mapping).
// Thread-safe, pure.

#include "common/status.h"
#include "logical/request.h"

namespace coffer::http {

// kInvalidArgument, kConflict, kAlreadyExists, kUnsupported → 400;
// kPermissionDenied → 403; kNotFound → 404; kMethodNotAllowed → 405;
// kTooLarge → 413; kRateLimited → 429; kInternal → 500;
// kSealed, kUnavailable → 503; kOk → 200.
int HttpStatusFor(Code code);

// {"errors":[message]} with HttpStatusFor(status.code()). For kInternal the
// client sees only "internal error"; the detail is logged here.
logical::Response ResponseFor(const Status& status);

}  // namespace coffer::http
