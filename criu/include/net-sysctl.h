/* The network namespace's sysctls (criu/net-sysctl.c); criu must be in that namespace. */
#ifndef CRIU_NET_SYSCTL_H
#define CRIU_NET_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#include "netns.h"

/*
 * Every knob of @k (of @link for the conf lists) into a new positional list,
 * absent ones unset; each entry malloc'ed, freed with the message holding it.
 */
int netns_knobs_read(const struct netns_knobs *k, const char *link, NetSysctl ***out, size_t *nr);
/*
 * The set values of @v (a checked list of @k) written; a value already there
 * is left alone; a knob this kernel lacks is an error, skipped if @weak.
 */
int netns_knobs_write(const struct netns_knobs *k, const char *link, NetSysctl **v, size_t nr,
		      bool weak);
/*
 * Every other writable knob of ipv4, ipv6, core, unix and of conf/{all,
 * default,@links} has a fresh namespace's value: -1 naming the first that
 * does not. criu is in the tree's namespace before and after.
 */
int netns_knobs_unchanged(const char *const *links, size_t nr_links);

#endif /* CRIU_NET_SYSCTL_H */
