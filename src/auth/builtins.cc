#include "auth/builtins.h"

#include "auth/approle/approle.h"
#include "auth/userpass/userpass.h"

namespace coffer::auth {

void RegisterAuthMethods() {
  userpass::RegisterUserpass();
  approle::RegisterApprole();
}

}  // namespace coffer::auth
