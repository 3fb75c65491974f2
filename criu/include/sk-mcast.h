/*
 * Multicast group memberships of an inet socket (criu/sk-mcast.c), for
 * criu/files-inet.c. No getsockopt lists a socket's groups, but
 * MCAST_MSFILTER, asked for one group on one interface, answers whether
 * the socket joined it (EADDRNOTAVAIL if not) and with which source filter
 * (mode and sources); the groups any socket of the namespace joined are in
 * /proc/PID/net/igmp and igmp6. The established format has no place for
 * them: the export refuses them unless --image-ext keeps inet-sks.img whole.
 *
 * Dump (on criu's copy of the socket):
 *   1. mcast_dump() asks MCAST_MSFILTER about every group of igmp (SOL_IP,
 *      every inet socket) and igmp6 (SOL_IPV6, IPv6 sockets) and keeps the
 *      ones joined, with their filters.
 * Restore (after bind()):
 *   1. mcast_check() on reading the image (NULL or what is wrong).
 *   2. mcast_restore(): MCAST_JOIN_GROUP on the interface, MCAST_MSFILTER
 *      for a filter other than "exclude nothing", each read back.
 *
 * mcast_parse_line() reads one line of igmp or igmp6 (unit-tested).
 */
#ifndef CRIU_SK_MCAST_H
#define CRIU_SK_MCAST_H

#include <stdbool.h>
#include <sys/socket.h>

#include "sk-inet.pb-c.h"

#define MCAST_MAX_GROUPS	1024u
#define MCAST_MAX_SOURCES	1024u

struct fd_probe;

int mcast_parse_line(const char *line, bool v6, int *ifindex, struct sockaddr_storage *group);
int mcast_dump(const struct fd_probe *p, int fd, InetSkEntry *e);
const char *mcast_check(const InetSkEntry *e);
int mcast_restore(int fd, const InetSkEntry *e);

#endif
