#include "logical/request.h"

#include "common/encoding.h"
#include "common/json_numbers.h"

namespace coffer::logical {

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kRead:
      return "read";
    case Operation::kCreate:
      return "create";
    case Operation::kUpdate:
      return "update";
    case Operation::kPatch:
      return "patch";
    case Operation::kDelete:
      return "delete";
    case Operation::kList:
      return "list";
    case Operation::kHead:
      return "head";
    case Operation::kScan:
      return "scan";
    case Operation::kHelp:
      return "help";
  }
  return "unknown";
}

const Json* Request::Field(std::string_view name) const {
  if (data.is_object()) {
    auto it = data.find(name);
    if (it != data.end()) return &*it;
  }
  return nullptr;
}

const Json& Request::DataAsWritten() const {
  if (data_as_written && SameButForNumberText(data, *data_as_written)) return *data_as_written;
  return data;
}

std::string Request::DataAsWrittenText() const {
  const Json& written = DataAsWritten();
  // nlohmann's own dump when there are no number texts: the common case.
  return &written == &data ? data.dump() : DumpJsonWithNumberText(written);
}

Result<bool> Request::BoolField(std::string_view name, bool fallback) const {
  const Json* f = Field(name);
  if (f == nullptr || f->is_null()) return fallback;
  if (f->is_boolean()) return f->get<bool>();
  if (f->is_number()) return f->get<double>() != 0;
  if (f->is_string()) {
    if (auto b = ParseGoBool(f->get_ref<const std::string&>())) return *b;
  }
  return Err(InvalidArgument(std::string(name) + " must be a boolean"));
}

Response ErrorResponse(int http_status, std::string message) {
  Response r;
  r.http_status = http_status;
  r.raw = Json{{"errors", Json::array({std::move(message)})}};
  return r;
}

std::optional<std::string> WeakString(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "1" : "0");
  if (value.is_number()) return value.dump();
  return std::nullopt;
}

Response DataResponse(Json data) {
  Response r;
  r.data = std::move(data);
  return r;
}

Response NoContent() {
  Response r;
  r.http_status = 204;
  return r;
}

Response TidyStartedResponse() {
  Response r;
  r.http_status = 202;
  r.warnings = Json::array(
      {"Tidy operation successfully started. Any information from the operation will be "
       "printed to Coffer's server logs."});
  return r;
}

Response TidyRunningResponse() {
  Response r;
  r.warnings = Json::array({"Tidy operation already in progress."});
  return r;
}

Response NotFoundResponse() {
  Response r;
  r.http_status = 404;
  r.raw = Json{{"errors", Json::array()}};
  return r;
}

}  // namespace coffer::logical
