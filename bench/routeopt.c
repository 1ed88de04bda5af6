/* routeopt: time codepop_route_optimize on random instances (bench/codepop). */
#include "apps/codepop/codepop.h"
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200, runs = argc > 2 ? atoi(argv[2]) : 5;
    double *lat = xcalloc((size_t)n, sizeof *lat), *lon = xcalloc((size_t)n, sizeof *lon);
    int *order = xcalloc((size_t)n, sizeof *order);
    srand(7);
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < n; i++) {
            lat[i] = 40.5 + rand() / (double)RAND_MAX;
            lon[i] = -74.5 + rand() / (double)RAND_MAX;
        }
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        double best = codepop_route_optimize(lat, lon, n, 40.5, -74.5, order);
        clock_gettime(CLOCK_MONOTONIC, &b);
        for (int i = 0; i < n; i++) order[i] = i;
        double given = codepop_route_length(lat, lon, order, n, 40.5, -74.5);
        printf("%d stops: %.1f ms, %.1f miles (given order %.1f)\n", n,
               (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, best, given);
    }
    return 0;
}
