// A worker of the process protocol that answers at once, for timing the protocol's round trip: it
// answers 0 to every logsumexp request, one 0 per logit to every softmax request, and `unsupported` to
// every other function. (A worker of logsumexp alone gets its requests one at a time: every answer has
// one value, so no sentinel could show a stray line; softmax's answers give the pipeline its sentinel.)
//
//     cc -O2 -o /tmp/instant_worker Benchmarks/workers/instant_worker.c
//     softmax-audit external --name instant --functions logsumexp,softmax --jobs 1 -- /tmp/instant_worker
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
        if (strncmp(line, "logsumexp ", 10) == 0) {
            fputs("0x0p+0\n", stdout);
        } else if (strncmp(line, "softmax ", 8) == 0) {
            int values = 0;
            for (char *p = line + 8; *p; ) {  // one value per token
                while (*p == ' ') p++;
                if (!*p || *p == '\n') break;
                fputs(values++ ? " 0x0p+0" : "0x0p+0", stdout);
                while (*p && *p != ' ' && *p != '\n') p++;
            }
            fputs("\n", stdout);
        } else {
            fputs("unsupported\n", stdout);
        }
        fflush(stdout);
    }
    return 0;
}
