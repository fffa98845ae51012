/*
 * src/plugins/spawn.h: starting a plugin process, isolated (docs/plugins.md,
 * "Isolation"), and stopping it.
 *
 * The child is made with _Fork (no fork handlers run: gatewayd has grpc,
 * curl and civetweb threads) and runs only async-signal-safe calls and raw
 * system calls before execve; everything it needs (argv, the environment,
 * the user to become) is prepared in the parent. In order, the child:
 *   - starts its own session and process group (setsid), so a stop signals
 *     the plugin and everything it started, and no terminal reaches it;
 *   - gets a pipe on stdin whose write end the host keeps (a plugin may
 *     watch for its EOF: the host is gone), pipes on stdout (the handshake, then
 *     logged) and stderr (logged), and no other descriptor (close_range);
 *   - unblocks every signal and resets ignored ones to their default
 *     (gatewayd blocks SIGTERM/SIGINT/SIGHUP and ignores SIGPIPE);
 *   - gets its rlimits: RLIMIT_DATA (heap and private writable mappings:
 *     the memory a plugin can take, unlike RLIMIT_AS it does not count the
 *     address space runtimes such as V8 reserve), RLIMIT_CPU, RLIMIT_NOFILE,
 *     no core dumps;
 *   - changes to its private directory;
 *   - when gatewayd runs as root, becomes the unprivileged user (no
 *     supplementary groups);
 *   - sets PR_SET_NO_NEW_PRIVS (no set-user-ID gain through exec) and
 *     PR_SET_PDEATHSIG (SIGKILL when the spawning thread's process dies);
 *   - execs the plugin, or bwrap with the sandbox arguments in front of it,
 *     with a clean environment: PATH, HOME and TMPDIR, LANG and the two
 *     AISTUDIO_PLUGIN_* variables (handshake.h) — never the parent's, so no
 *     DATABASE_URL, AISTUDIO_SECRET_KEY or anything else set for gatewayd.
 * A failed execve is reported through a close-on-exec pipe: spawn returns
 * -1 with the reason ("permission denied") instead of a child that exits.
 *
 * The bubblewrap sandbox (GW_SANDBOX_BWRAP): every namespace unshared
 * (user, pid, ipc, uts, cgroup, network — the network kept only when the
 * plugin's manifest asks for it), the root file system read-only, a fresh
 * /dev, /proc and /tmp, the hidden paths masked (/dev/null, which cannot be
 * opened from the sandbox's user namespace, over a file such as the master
 * key file; an empty tmpfs over a directory such as the spool directory or
 * the other plugins' run directory), the writable paths and the
 * plugin's own directory bound read-write, no capabilities, and the sandbox
 * dies with the child.
 */
#ifndef GW_PLUGINS_SPAWN_H
#define GW_PLUGINS_SPAWN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/common.h"

typedef enum gw_sandbox { GW_SANDBOX_NONE = 0, GW_SANDBOX_BWRAP = 1 } gw_sandbox;

#define GW_SPAWN_MAX_ARGS 16  /* extra arguments after the executable */
#define GW_SPAWN_MAX_PATHS 16 /* hidden or writable paths */
/* The bwrap arguments: fixed ones, three per path, the executable and its arguments. */
#define GW_SPAWN_MAX_ARGV (48 + 3 * 2 * GW_SPAWN_MAX_PATHS + GW_SPAWN_MAX_ARGS)
#define GW_SPAWN_MAX_ENV 8

typedef struct gw_spawn_opts {
    const char *path;        /* absolute path of the executable */
    const char *const *args; /* arguments after it (may be NULL) */
    size_t nargs;
    const char *name; /* the plugin's name (GW_PLUGIN_NAME_ENV) */
    const char *dir;  /* its private directory (exists, owned by the user it runs as) */
    gw_sandbox sandbox;
    const char *bwrap; /* the bwrap executable (GW_SANDBOX_BWRAP) */
    int network;       /* sandbox: keep the network */
    const char *const *hidden; /* sandbox: paths masked */
    size_t nhidden;
    const char *const *writable; /* sandbox: paths bound read-write */
    size_t nwritable;
    int64_t mem_bytes; /* RLIMIT_DATA; 0 = no limit */
    int64_t cpu_s;     /* RLIMIT_CPU; 0 = no limit */
    int64_t nofile;    /* RLIMIT_NOFILE; 0 = unchanged */
    int set_user;      /* become uid/gid (gatewayd runs as root) */
    uid_t uid;
    gid_t gid;
} gw_spawn_opts;

/* A running child. Its descriptors are non-blocking and close-on-exec. */
typedef struct gw_child {
    pid_t pid;  /* 0 = none */
    int pidfd;  /* readable when it exits (-1 when pidfd_open is not available) */
    int out_fd; /* its stdout */
    int err_fd; /* its stderr */
    int in_fd;  /* the write end of its stdin */
} gw_child;

/* The prepared command line and environment (spawn builds them; tests read them). */
typedef struct gw_spawn_plan {
    const char *argv[GW_SPAWN_MAX_ARGV + 1];
    size_t argc;
    char *envp[GW_SPAWN_MAX_ENV + 1];
    size_t envc;
    char env_store[4 * 1024 + 2 * 4096];
    char exe_dir[4096]; /* sandbox: what of the executable's place the private /tmp would hide */
} gw_spawn_plan;

/* Builds argv (bwrap's arguments when sandboxed) and the environment. -1
 * with err for a relative path, too many paths or arguments. */
int gw_spawn_plan_build(const gw_spawn_opts *o, gw_spawn_plan *plan, char err[GW_ERR_LEN]);

/* Starts the child; -1 with err when it could not be made or exec failed. */
int gw_spawn_start(const gw_spawn_opts *o, gw_child *c, char err[GW_ERR_LEN]);
/* 1 when the child has exited (reaped; *status as waitpid's), 0 when it runs. */
int gw_spawn_reap(gw_child *c, int *status);
/*
 * Stops the child: SIGTERM to its process group, up to grace_ms for it to
 * exit, then SIGKILL; reaps it and closes its descriptors. Safe on a child
 * already reaped (then it only kills what is left of its group).
 */
void gw_spawn_stop(gw_child *c, int grace_ms);
/* Closes the descriptors (after the child was reaped). */
void gw_spawn_close(gw_child *c);
/* "exited with status 3", "was killed by signal 9 (SIGKILL)". */
const char *gw_spawn_describe(int status, char *buf, size_t cap);

/* The bwrap executable found on PATH (or /usr/bin/bwrap), copied into out;
 * -1 when there is none. */
int gw_spawn_find_bwrap(char *out, size_t cap);

#endif
