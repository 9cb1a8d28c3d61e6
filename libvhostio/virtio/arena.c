/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"

static bool page_used(const struct arena *a, size_t i)
{
	return a->used[i / 64] >> (i % 64) & 1;
}

static void mark(struct arena *a, size_t first, size_t n, bool on)
{
	for (size_t i = first; i < first + n; i++) {
		if (on)
			a->used[i / 64] |= UINT64_C(1) << (i % 64);
		else
			a->used[i / 64] &= ~(UINT64_C(1) << (i % 64));
	}
}

int arena_init(struct arena *a, size_t size)
{
	memset(a, 0, sizeof(*a));
	if (size == 0 || size > (size_t)UINT32_MAX * ARENA_PAGE)
		return -EINVAL;
	size = (size + ARENA_PAGE - 1) & ~(size_t)(ARENA_PAGE - 1);
	a->npages = size / ARENA_PAGE;
	a->used = calloc((a->npages + 63) / 64, sizeof(uint64_t));
	a->run = calloc(a->npages, sizeof(uint32_t));
	if (!a->used || !a->run) {
		free(a->used);
		free(a->run);
		return -ENOMEM;
	}
	/* Private anonymous memory: vhost reaches it through our mm (SET_OWNER),
	 * so nothing needs to be shared. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		int err = -errno;
		free(a->used);
		free(a->run);
		return err;
	}
	a->base = p;
	a->size = size;
	a->free_pages = a->npages;
	pthread_mutex_init(&a->lock, NULL);
	return 0;
}

void arena_destroy(struct arena *a)
{
	if (!a->base)
		return;
	munmap(a->base, a->size);
	free(a->used);
	free(a->run);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof(*a));
}

/* First fit from 'start' up to 'end'; npages if none. */
static size_t find_run(const struct arena *a, size_t start, size_t end, size_t want)
{
	size_t i = start;
	while (i + want <= end) {
		size_t n = 0;
		while (n < want && !page_used(a, i + n))
			n++;
		if (n == want)
			return i;
		i += n + 1;
	}
	return a->npages;
}

void *arena_alloc(struct arena *a, size_t len)
{
	if (len == 0)
		len = 1;
	size_t want = (len + ARENA_PAGE - 1) / ARENA_PAGE;
	if (want > a->npages)
		return NULL;
	pthread_mutex_lock(&a->lock);
	size_t at = a->npages;
	if (want <= a->free_pages) {
		at = find_run(a, a->hint, a->npages, want);
		if (at == a->npages)
			at = find_run(a, 0, a->npages, want);
	}
	if (at == a->npages) {
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	mark(a, at, want, true);
	a->run[at] = (uint32_t)want;
	a->free_pages -= want;
	a->hint = at + want < a->npages ? at + want : 0;
	pthread_mutex_unlock(&a->lock);
	void *p = a->base + at * ARENA_PAGE;
	/* Callers rely on zeroed memory (ring flags/indexes start at 0). */
	memset(p, 0, want * ARENA_PAGE);
	return p;
}

void arena_free(struct arena *a, void *p)
{
	if (!p)
		return;
	uintptr_t off = (uintptr_t)p - (uintptr_t)a->base;
	if ((uintptr_t)p < (uintptr_t)a->base || off >= a->size || off % ARENA_PAGE) {
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: free of %p, not from the I/O arena", p);
		return;
	}
	size_t i = off / ARENA_PAGE;
	pthread_mutex_lock(&a->lock);
	if (!a->run[i] || !page_used(a, i)) {
		pthread_mutex_unlock(&a->lock);
		vhostio_log(VHOSTIO_LOG_ERROR, "initiator: free of %p, not allocated", p);
		return;
	}
	mark(a, i, a->run[i], false);
	a->free_pages += a->run[i];
	a->run[i] = 0;
	pthread_mutex_unlock(&a->lock);
}

bool arena_contains(const struct arena *a, const void *p, size_t len)
{
	uintptr_t b = (uintptr_t)a->base, q = (uintptr_t)p;
	return a->base && q >= b && len <= a->size && q - b <= a->size - len;
}

size_t arena_free_bytes(struct arena *a)
{
	pthread_mutex_lock(&a->lock);
	size_t n = a->free_pages * ARENA_PAGE;
	pthread_mutex_unlock(&a->lock);
	return n;
}
