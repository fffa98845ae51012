/*
 * regress/unit/plugin_probe.c: run by test_plugin_spawn through the plugin
 * launcher (gatewayd/src/plugins/spawn.c); prints what the isolation left
 * it, one "key=value" line each, and exits:
 *   plugin_probe PORT SECRET_FILE TMP_FILE
 * PORT: a TCP port on 127.0.0.1 to try (net=ok | net=error: ...);
 * SECRET_FILE: a file to read (secret=<its first line> | secret=error: ...);
 * TMP_FILE: a file to look for (tmpfile=present | tmpfile=absent).
 * Built without sanitizers (the limits it is started under would stop them).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

static void limit(const char *name, int res)
{
    struct rlimit rl;
    getrlimit(res, &rl);
    if (rl.rlim_cur == RLIM_INFINITY)
        printf("%s=unlimited\n", name);
    else
        printf("%s=%llu\n", name, (unsigned long long)rl.rlim_cur);
}

static void status_line(const char *key, const char *out)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, key, strlen(key)) == 0) {
            char *v = line + strlen(key);
            while (*v == ' ' || *v == '\t')
                v++;
            v[strcspn(v, "\n")] = '\0';
            printf("%s=%s\n", out, v);
        }
    if (f != NULL)
        fclose(f);
}

int main(int argc, char **argv)
{
    char cwd[4096];
    if (argc < 4)
        return 2;
    printf("pid=%d\nsid=%d\npgid=%d\nuid=%d\ngid=%d\n", (int)getpid(), (int)getsid(0), (int)getpgid(0), (int)getuid(),
           (int)getgid());
    printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) != NULL ? cwd : "?");
    for (char **e = environ; *e != NULL; e++)
        printf("env=%s\n", *e);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
            printf("fd=%s\n", de->d_name);
    if (d != NULL)
        closedir(d);
    limit("rlimit_data", RLIMIT_DATA);
    limit("rlimit_cpu", RLIMIT_CPU);
    limit("rlimit_nofile", RLIMIT_NOFILE);
    limit("rlimit_core", RLIMIT_CORE);
    status_line("NoNewPrivs:", "nnp");
    status_line("SigBlk:", "sigblk");
    status_line("SigIgn:", "sigign");

    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
        printf("net=ok\n");
    else
        printf("net=error: %s\n", strerror(errno));

    char line[256] = "";
    FILE *f = fopen(argv[2], "r");
    if (f == NULL)
        printf("secret=error: %s\n", strerror(errno));
    else {
        if (fgets(line, sizeof(line), f) == NULL)
            line[0] = '\0';
        line[strcspn(line, "\n")] = '\0';
        printf("secret=%s\n", line);
        fclose(f);
    }
    printf("tmpfile=%s\n", access(argv[3], F_OK) == 0 ? "present" : "absent");
    fflush(stdout);
    if (getenv("PROBE_HANG") != NULL || (argc > 4 && strcmp(argv[4], "hang") == 0)) {
        /* ignores SIGTERM and leaves a child in its group: stop must SIGKILL both */
        signal(SIGTERM, SIG_IGN);
        pid_t child = fork();
        if (child == 0)
            for (;;)
                pause();
        printf("child=%d\n", (int)child);
        fflush(stdout);
        for (;;)
            pause();
    }
    return 0;
}
