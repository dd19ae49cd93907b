/*
 * wharf-launch: starts one plugin for wharfd and makes sure nothing of it outlives either.
 *
 *   wharf-launch --parent PID [--cwd DIR] [--memory BYTES] [--open-files N] [--cpu SECONDS]
 *                -- COMMAND [ARG...]
 *
 * wharfd starts it with the plugin's three pipes as its stdin, stdout and stderr, and the
 * plugin's environment. It then:
 *  - closes every other descriptor it inherited, so none leaks into the plugin;
 *  - dies with wharfd (PR_SET_PDEATHSIG), even when wharfd is killed with SIGKILL, and takes
 *    the plugin's process group with it;
 *  - becomes the subreaper of the plugin's descendants (PR_SET_CHILD_SUBREAPER), so that a child
 *    the plugin leaves behind is reparented here, not to init;
 *  - starts COMMAND in a process group of its own, with the resource limits asked for, in DIR;
 *  - forwards SIGTERM to that group, and turns SIGUSR1 into SIGKILL for the group (wharfd's
 *    escalation after the grace period);
 *  - when the plugin exits, kills whatever is left of its group, reaps it, and exits with the
 *    plugin's status (its exit code, or 128 + the signal that ended it).
 * A descendant that leaves the process group on purpose (setsid) escapes the group kills; under
 * systemd the service's control group still ends it when wharfd stops.
 *
 * Only async-signal-safe calls run between fork and exec. No allocation after start-up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(void) {
  static const char text[] =
      "usage: wharf-launch --parent PID [--cwd DIR] [--memory BYTES] [--open-files N] [--cpu SECONDS]"
      " -- COMMAND [ARG...]\n";
  (void)!write(2, text, sizeof(text) - 1);
  _exit(2);
}

static long long number(const char *text) {
  char *end = NULL;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 0) usage();
  return value;
}

/* Closes every descriptor from `first` up, with close_range when the kernel has it. */
static void close_from(int first) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
#endif
  struct rlimit limit;
  long max = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY ? (long)limit.rlim_cur : 65536;
  for (long fd = first; fd < max; fd++) close((int)fd);
}

static void set_limit(int resource, long long value) {
  if (value <= 0) return;
  struct rlimit limit = {(rlim_t)value, (rlim_t)value};
  if (setrlimit(resource, &limit) != 0) {
    static const char text[] = "wharf-launch: cannot set a resource limit for the plugin\n";
    (void)!write(2, text, sizeof(text) - 1);
  }
}

int main(int argc, char **argv) {
  long long parent = -1, memory = 0, open_files = 0, cpu = 0;
  const char *cwd = NULL;
  int index = 1;
  for (; index < argc; index++) {
    const char *arg = argv[index];
    if (strcmp(arg, "--") == 0) { index++; break; }
    if (index + 1 >= argc) usage();
    if (strcmp(arg, "--parent") == 0) parent = number(argv[++index]);
    else if (strcmp(arg, "--cwd") == 0) cwd = argv[++index];
    else if (strcmp(arg, "--memory") == 0) memory = number(argv[++index]);
    else if (strcmp(arg, "--open-files") == 0) open_files = number(argv[++index]);
    else if (strcmp(arg, "--cpu") == 0) cpu = number(argv[++index]);
    else usage();
  }
  if (parent <= 0 || index >= argc) usage();

  close_from(3);
  /* Dies with wharfd; if wharfd is gone already, there is nobody to serve. */
  if (prctl(PR_SET_PDEATHSIG, SIGUSR2) != 0 || getppid() != (pid_t)parent) _exit(125);
  (void)prctl(PR_SET_CHILD_SUBREAPER, 1);

  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGUSR1);
  sigaddset(&handled, SIGUSR2);
  sigaddset(&handled, SIGCHLD);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  sigaddset(&handled, SIGALRM);
  sigprocmask(SIG_BLOCK, &handled, NULL);

  pid_t plugin = fork();
  if (plugin < 0) {
    static const char text[] = "wharf-launch: cannot fork the plugin\n";
    (void)!write(2, text, sizeof(text) - 1);
    _exit(126);
  }
  if (plugin == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    /* Dies with its launcher as well, should the launcher ever be killed outright. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    set_limit(RLIMIT_AS, memory);
    set_limit(RLIMIT_NOFILE, open_files);
    set_limit(RLIMIT_CPU, cpu);
    if (cwd != NULL && chdir(cwd) != 0) {
      dprintf(2, "wharf-launch: cannot enter the working directory %s: %s\n", cwd, strerror(errno));
      _exit(127);
    }
    execv(argv[index], &argv[index]);
    dprintf(2, "wharf-launch: cannot execute %s: %s\n", argv[index], strerror(errno));
    _exit(127);
  }
  /* Both sides set the group, so that it exists whichever runs first. */
  setpgid(plugin, plugin);
  /* The plugin holds the pipes; the launcher's copies would keep them open after it exits. */
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }

  int plugin_status = 0;
  int plugin_done = 0;
  for (;;) {
    int signal_number = 0;
    if (sigwait(&handled, &signal_number) != 0) continue;
    switch (signal_number) {
      case SIGTERM:
      case SIGINT:
      case SIGHUP:
        kill(-plugin, SIGTERM);
        break;
      case SIGUSR1:
        kill(-plugin, SIGKILL);
        break;
      case SIGUSR2: /* wharfd is gone */
        kill(-plugin, SIGKILL);
        break;
      default:
        break;
    }
    int status = 0;
    pid_t reaped;
    while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped == plugin) {
        plugin_done = 1;
        plugin_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        /* Whatever the plugin left behind in its group goes with it; a descendant that left
           the group does not keep the launcher (nor wharfd's wait) for more than 2 s. */
        kill(-plugin, SIGKILL);
        alarm(2);
      }
    }
    if (plugin_done && reaped < 0 && errno == ECHILD) _exit(plugin_status);
    if (plugin_done && (signal_number == SIGUSR2 || signal_number == SIGALRM)) _exit(plugin_status);
  }
}
