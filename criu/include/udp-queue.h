/*
 * The receive queue of a UDP or UDP-Lite socket (criu/udp-queue.c), for
 * criu/files-inet.c. The established format has no place for it: the
 * export refuses it unless --image-ext keeps inet-sks.img whole.
 *
 * Dump (the tree frozen, on criu's copy of the socket, after its options
 * are read):
 *   1. udpq_dump() reads every datagram without taking it (MSG_PEEK from
 *      a peek offset of 0, SO_PEEK_OFF set back as it was), with its
 *      sender, oldest first. Refused: a datagram that comes with ancillary
 *      data the receiver asked for (IP_PKTINFO, timestamps, TTL, ...: a
 *      datagram sent again cannot carry the original's), a socket bound to
 *      a device or to a multicast or broadcast address (a datagram sent
 *      again over loopback would not reach it), a queue over the limits,
 *      an empty datagram when @goes_on (the tree runs on after the dump:
 *      the peek marks it, and a peek at an offset skips it from then on).
 *
 * Restore (after bind(), before connect(), shutdown and the late options,
 * so that neither a peer nor a filter sifts the queue):
 *   1. udpq_check() on reading the image (NULL or what is wrong).
 *   2. udpq_restore() sends each datagram again, from its sender's address
 *      and port, through a raw socket writing its own IP header (any
 *      source, no port taken from anyone) to the socket's address over
 *      loopback, the receive buffer raised meanwhile and set back after;
 *      each one must be in the queue (its memory grew) before the next
 *      goes. Nothing is peeked: that would mark an empty datagram.
 */
#ifndef CRIU_UDP_QUEUE_H
#define CRIU_UDP_QUEUE_H

#include <stdbool.h>

#include "sk-inet.pb-c.h"

#define UDPQ_MAX_DGRAMS		65536u
#define UDPQ_MAX_BYTES		(64u << 20)

int udpq_dump(int fd, int tfd, InetSkEntry *e, bool goes_on);
const char *udpq_check(const InetSkEntry *e);
int udpq_restore(int fd, const InetSkEntry *e);

#endif
