/* STUB: replaced wholesale by its owner. */
#include "codepop.h"
void codepop_routes_optimize(struct req *r) { reply_error(r, 501, "not_implemented", "not implemented yet"); }
double codepop_route_optimize(const double *la, const double *lo, int n, double sa, double so, int *order) { for (int i = 0; i < n; i++) order[i] = i; return 0; }
double codepop_route_length(const double *la, const double *lo, const int *o, int n, double sa, double so) { return 0; }
