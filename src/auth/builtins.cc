#include "auth/builtins.h"

#include "auth/approle/approle.h"
#include "auth/cert/cert.h"
#include "auth/jwt/jwt_backend.h"
#include "auth/userpass/userpass.h"

namespace coffer::auth {

void RegisterAuthMethods() {
  userpass::RegisterUserpass();
  approle::RegisterApprole();
  jwt::RegisterJwt();
  cert::RegisterCert();
}

}  // namespace coffer::auth
