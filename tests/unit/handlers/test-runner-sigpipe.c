/* vhostio-runner ignores SIGPIPE: with its stderr a pipe whose reader has gone, its log lines fail with
 * EPIPE instead of killing it.  It is started so that it logs and exits before it would need the kernel
 * (an empty handler directory: "no handler could be loaded"), with SIGPIPE at its default action, as a
 * service manager starts it. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-handler-plugin.h"

#ifndef VHOSTIO_RUNNER
#error "VHOSTIO_RUNNER must name the built vhostio-runner"
#endif

int main(void)
{
	char *tmp = make_tmpdir();
	char conf[4200];
	snprintf(conf, sizeof(conf), "%s/empty.conf", tmp); /* tmp: at most 4095 characters */
	FILE *f = fopen(conf, "w");
	CHECK(f && fclose(f) == 0, "create %s", conf);

	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	close(p[0]); /* nobody will read: every write gets EPIPE, and SIGPIPE unless ignored */

	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = SIG_DFL };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL); /* ctest, or a shell, may have left it ignored */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execl(VHOSTIO_RUNNER, VHOSTIO_RUNNER, "--no-dbus", "--log-level", "debug", "--config", conf,
		      "--handler-dir", tmp, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	CHECK(pid > 0, "fork");
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(!WIFSIGNALED(status), "vhostio-runner killed by signal %d (%s)", WTERMSIG(status),
	      strsignal(WTERMSIG(status)));
	/* 1: it could not start (no handler), the expected end; a sanitizer may add its own code. */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 127 && WEXITSTATUS(status) != 0,
	      "vhostio-runner: exit status %d, want a failed start", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	rm_tree(tmp);
	return test_exit();
}
