// Business routes of SPEC 5, registered on the pure Router. One file per resource group.
#pragma once

#include "api/handler_support.h"
#include "api/router.h"

namespace encore::api {

void add_member_routes(Router& router, Services& services);
void add_points_routes(Router& router, Services& services);
void add_admin_routes(Router& router, Services& services);

inline void add_ledger_routes(Router& router, Services& services) {
  add_member_routes(router, services);
  add_points_routes(router, services);
  add_admin_routes(router, services);
}

}  // namespace encore::api
