/*
 * timerfd (images/timerfd.proto): clock, settime flags and unread
 * expirations from fdinfo, time left and interval from timerfd_gettime(). Restore arms a new timer with
 * the time left (made absolute again for TFD_TIMER_ABSTIME timers, so
 * TFD_TIMER_CANCEL_ON_SET keeps working) and puts the unread expirations
 * back with TFD_IOC_SET_TICKS. The time between dump and restore is not
 * counted: a timer with 5 s left fires 5 s after the restore. Except for
 * an absolute timer on the wall clock: its state is the wall-clock time it
 * fires at, so the dump keeps the clock's reading too and the restore sets
 * that same absolute time (the established format has no place for the
 * reading: est-export-files.c refuses it without --image-ext). A disarmed
 * timer keeps the interval and settime flags it was last set with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#define LOG_PREFIX "timerfd: "
#include "log.h"
#include "kernel-compat.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "timerfd.pb-c.h"

#define TFD_SETTIME_FLAGS	(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)
#define TFD_MAX_SEC		(1ULL << 40)	/* 35,000 years: keeps sums in range */

/* What fdinfo says, and the wall clock just after timerfd_gettime(). */
struct tfd_state {
	struct proc_timerfd tfd;
	struct timespec dump_clock;
};

static bool wall_clock(uint32_t c)
{
	return c == CLOCK_REALTIME || c == CLOCK_REALTIME_ALARM;
}

/* An armed absolute timer on the wall clock: its state is when it fires. */
static bool tfd_wall_abs(uint32_t clockid, uint32_t settime_flags, uint64_t sec, uint32_t nsec)
{
	return wall_clock(clockid) && (settime_flags & TFD_TIMER_ABSTIME) && (sec || nsec);
}

static bool tfd_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[timerfd]");
}

/*
 * fdinfo shows no time left for a periodic timer that expired and was not
 * read yet (the kernel moves it on only in read or timerfd_gettime).
 * timerfd_gettime() on criu's copy moves it on, folding the missed periods
 * into the ticks, as a read would; fdinfo read after that is exact.
 */
static int tfd_state(struct fd_probe *p, struct tfd_state *pt)
{
	struct proc_fdinfo fi;
	struct itimerspec its;
	int fd = fd_probe_local(p), ret;

	if (fd < 0)
		return -1;
	if (timerfd_gettime(fd, &its) || clock_gettime(CLOCK_REALTIME, &pt->dump_clock)) {
		pr_perror("fd %d: timerfd_gettime", p->fd);
		return -1;
	}
	if (proc_read_fdinfo(p->pid, p->fd, &fi))
		return -1;
	ret = proc_fdinfo_timerfd(&fi, &pt->tfd);
	proc_fdinfo_free(&fi);
	if (ret) {
		pr_err("fd %d: no timerfd lines in its fdinfo", p->fd);
		return -1;
	}
	pt->tfd.value_sec = (uint64_t)its.it_value.tv_sec;
	pt->tfd.value_nsec = (uint64_t)its.it_value.tv_nsec;
	pt->tfd.interval_sec = (uint64_t)its.it_interval.tv_sec;
	pt->tfd.interval_nsec = (uint64_t)its.it_interval.tv_nsec;
	return 0;
}

static int tfd_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_TIMERFD);
	struct tfd_state st;
	struct proc_timerfd *pt = &st.tfd;
	TimerfdEntry *e;

	if (!l || tfd_state(p, &st))
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	timerfd_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	e->clockid = (uint32_t)pt->clockid;
	e->settime_flags = pt->settime_flags;
	e->ticks = pt->ticks;
	e->value_sec = pt->value_sec;
	e->value_nsec = (uint32_t)pt->value_nsec;
	e->interval_sec = pt->interval_sec;
	e->interval_nsec = (uint32_t)pt->interval_nsec;
	if (tfd_wall_abs(e->clockid, e->settime_flags, e->value_sec, e->value_nsec)) {
		e->has_clock_sec = e->has_clock_nsec = true;
		e->clock_sec = (uint64_t)st.dump_clock.tv_sec;
		e->clock_nsec = (uint32_t)st.dump_clock.tv_nsec;
	}
	return fd_list_add(l, e);
}

static bool clock_ok(uint32_t c)
{
	return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME ||
	       c == CLOCK_REALTIME_ALARM || c == CLOCK_BOOTTIME_ALARM;
}

static int tfd_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const TimerfdEntry *e = (const TimerfdEntry *)m;

	if ((e->flags & ~O_NONBLOCK) || !clock_ok(e->clockid) ||
	    (e->settime_flags & ~TFD_SETTIME_FLAGS) || e->value_nsec >= 1000000000u ||
	    e->interval_nsec >= 1000000000u || e->value_sec > TFD_MAX_SEC ||
	    e->interval_sec > TFD_MAX_SEC || e->has_clock_sec != e->has_clock_nsec ||
	    (e->has_clock_sec && (e->clock_sec > TFD_MAX_SEC || e->clock_nsec >= 1000000000u ||
				  !tfd_wall_abs(e->clockid, e->settime_flags, e->value_sec,
						e->value_nsec)))) {
		pr_err("timerfds.img: object %u: bad flags, clock %u or times", e->id, e->clockid);
		return -1;
	}
	*id = e->id;
	return 0;
}

/*
 * Set @fd as @e says; the time left counts from now, or from the dump's
 * wall clock reading when the image has one (it already passed: the
 * kernel counts the expirations missed since).
 */
static int arm(int fd, const TimerfdEntry *e)
{
	struct itimerspec its = {
		.it_value = { (time_t)e->value_sec, e->value_nsec },
		.it_interval = { (time_t)e->interval_sec, e->interval_nsec },
	};
	struct timespec now;

	if (e->has_clock_sec) {
		now.tv_sec = (time_t)e->clock_sec;
		now.tv_nsec = (long)e->clock_nsec;
	} else if ((e->value_sec || e->value_nsec) && (e->settime_flags & TFD_TIMER_ABSTIME) &&
		   clock_gettime((clockid_t)e->clockid, &now)) {
		return -1;
	}

	/*
	 * A disarmed timer (no time left) still holds the interval and settime
	 * flags it was last set with (timerfd_gettime and fdinfo show them):
	 * set it with a zero value, which the kernel keeps disarmed.
	 */
	if ((e->value_sec || e->value_nsec) && (e->settime_flags & TFD_TIMER_ABSTIME)) {
		its.it_value.tv_sec += now.tv_sec;
		its.it_value.tv_nsec += now.tv_nsec;
		if (its.it_value.tv_nsec >= 1000000000L) {
			its.it_value.tv_nsec -= 1000000000L;
			its.it_value.tv_sec++;
		}
	}
	return timerfd_settime(fd, (int)e->settime_flags, &its, NULL);
}

static int tfd_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const TimerfdEntry *e = (const TimerfdEntry *)o->e;
	uint64_t ticks = e->ticks;
	int fd;

	(void)r;
	(void)opt;
	fd = timerfd_create((int)e->clockid, TFD_CLOEXEC | (e->flags & O_NONBLOCK ? TFD_NONBLOCK : 0));
	if (fd < 0) {
		pr_perror("timerfd_create clock %u", e->clockid);
		return -1;
	}
	if (arm(fd, e)) {
		pr_perror("timerfd_settime");
		goto err;
	}
	if (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks)) {
		if (errno == ENOTTY)
			pr_err("timerfd with %llu unread expirations: this kernel cannot set them "
			       "(TFD_IOC_SET_TICKS): not supported yet", (unsigned long long)ticks);
		else
			pr_perror("TFD_IOC_SET_TICKS %llu", (unsigned long long)ticks);
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

const struct fd_ops fd_timerfd_ops = {
	.kind = FD_KIND__FD_TIMERFD, .name = "timerfd", .img = IMG_TIMERFDS,
	.match = tfd_match, .dump = tfd_dump,
	.validate = tfd_validate, .open = tfd_open,
};
