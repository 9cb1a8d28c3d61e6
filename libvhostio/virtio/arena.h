/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The initiator's I/O memory: one anonymous mapping that the kernel sees as
 * a single vhost memory region (gpa == uaddr), carved into 4 KiB pages.
 * Everything the device touches (rings, request headers, indirect tables,
 * data buffers) must come from here.
 */
#ifndef VHOSTIO_ARENA_H
#define VHOSTIO_ARENA_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARENA_PAGE 4096u

struct arena {
	uint8_t *base;
	size_t size;       /* bytes, a multiple of ARENA_PAGE */
	size_t npages;
	uint64_t *used;    /* bitmap: 1 = page allocated */
	uint32_t *run;     /* at an allocation's first page: its length in pages */
	size_t hint;       /* where the next search starts (next fit) */
	size_t free_pages;
	pthread_mutex_t lock;
};

/* size is rounded up to whole pages.  0 or -errno. */
int arena_init(struct arena *a, size_t size);
void arena_destroy(struct arena *a);
/* Page-aligned, zeroed memory; NULL when no run of pages is free. */
void *arena_alloc(struct arena *a, size_t len);
/* NULL is ignored; pointers not from arena_alloc() are logged and ignored. */
void arena_free(struct arena *a, void *p);
bool arena_contains(const struct arena *a, const void *p, size_t len);
size_t arena_free_bytes(struct arena *a);

#endif
