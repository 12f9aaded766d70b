/*
 * detach: a detached child.  See detach.h.
 */
#include "detach.h"
#include "msg.h"

#include <fcntl.h>
#include <unistd.h>

pid_t detach_fork(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		msg_warn("fork: %m");
		return -1;
	}
	if (pid > 0)
		return pid;
	setsid();
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	msg_set_stderr(0);
	return 0;
}
