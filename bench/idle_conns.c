/* idle_conns: open N keep-alive connections to 127.0.0.1:PORT, make one
 * request on each, keep them all open for SECONDS, then exit. Used by
 * bench/run to measure the server's RSS with 10,000 idle connections. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: idle_conns PORT N SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]), secs = atoi(argv[3]), open_ok = 0;
    struct rlimit rl = {(rlim_t)n + 64, (rlim_t)n + 64};
    setrlimit(RLIMIT_NOFILE, &rl);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    const char *req = "GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n";
    char buf[1024];
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("connect");
            break;
        }
        if (write(fd, req, strlen(req)) < 0 || read(fd, buf, sizeof buf) <= 0) break;
        open_ok++;
    }
    printf("%d\n", open_ok);
    fflush(stdout);
    sleep((unsigned)secs);
    return 0;
}
