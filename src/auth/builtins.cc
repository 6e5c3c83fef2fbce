#include "auth/builtins.h"

#include "auth/approle/approle.h"
#include "auth/cert/cert.h"
#include "auth/github/github.h"
#include "auth/jwt/jwt_backend.h"
#include "auth/kubernetes/kubernetes.h"
#include "auth/ldap/ldap_backend.h"
#include "auth/userpass/userpass.h"

namespace coffer::auth {

void RegisterAuthMethods() {
  userpass::RegisterUserpass();
  approle::RegisterApprole();
  jwt::RegisterJwt();
  cert::RegisterCert();
  kubernetes::RegisterKubernetes();
  ldap::RegisterLdap();
  github::RegisterGithub();
}

}  // namespace coffer::auth
