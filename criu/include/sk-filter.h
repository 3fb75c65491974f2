/*
 * Classic socket filters (SO_ATTACH_FILTER), read back and attached again
 * (criu/sk-filter.c): the helpers any socket family uses, whatever image
 * keeps the program (criu/files-sock.c keeps it as the SO_GET_FILTER row of
 * the option table). A program is kept as its instructions' bytes
 * (struct sock_filter, 8 each).
 *   1. sk_filter_count(): 0 none, N instructions, -1 an eBPF filter
 *      (SO_ATTACH_BPF: no program to read back);
 *   2. sk_filter_read(): the N instructions into a buffer of its own;
 *   3. sk_filter_valid() on what an image holds, sk_filter_attach() at
 *      restore (SO_LOCK_FILTER, if it was on, after it).
 */
#ifndef CRIU_SK_FILTER_H
#define CRIU_SK_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int sk_filter_count(int fd, int64_t *n);
int sk_filter_read(int fd, int64_t n, uint8_t **prog, size_t *len);
bool sk_filter_valid(int64_t n, size_t len);
int sk_filter_attach(int fd, const uint8_t *prog, size_t len);

#endif
