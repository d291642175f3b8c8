// A worker of the process protocol that answers at once, for timing the protocol's round trip: it
// answers 0 to every logsumexp request and `unsupported` to every other function.
//
//     cc -O2 -o /tmp/instant_worker Benchmarks/workers/instant_worker.c
//     softmax-audit external --name instant --functions logsumexp --jobs 1 -- /tmp/instant_worker
#include <stdio.h>
#include <string.h>

int main(void) {
    static char line[1 << 24];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {  // a request longer than the buffer: read it out
            int c;
            while ((c = getchar()) != EOF && c != '\n') {}
        }
        fputs(strncmp(line, "logsumexp ", 10) == 0 ? "0x0p+0\n" : "unsupported\n", stdout);
        fflush(stdout);
    }
    return 0;
}
