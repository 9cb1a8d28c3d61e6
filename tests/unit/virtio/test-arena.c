/* The initiator's I/O arena: page-aligned zeroed allocations, exhaustion
 * is NULL, frees coalesce so a large run fits again, bad frees are
 * ignored, and two threads hammering it never get overlapping memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "fixture.h"

static struct arena A;

static void *hammer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint8_t *mine[8] = { 0 };
	for (int round = 0; round < 2000 && !check_failures; round++) {
		int k = round % 8;
		if (mine[k]) {
			for (size_t i = 0; i < ARENA_PAGE; i += 512)
				CHECK(mine[k][i] == (uint8_t)id, "thread %zu: page overwritten", (size_t)id);
			arena_free(&A, mine[k]);
		}
		mine[k] = arena_alloc(&A, ARENA_PAGE * (1 + (size_t)k % 3));
		if (mine[k])
			memset(mine[k], (int)id, ARENA_PAGE);
	}
	for (int k = 0; k < 8; k++)
		arena_free(&A, mine[k]);
	return NULL;
}

int main(void)
{
	CHECK(arena_init(&A, 0) < 0, "empty arena accepted");
	CHECK(arena_init(&A, 10 * ARENA_PAGE - 100) == 0, "init");
	CHECK(A.size == 10 * ARENA_PAGE && arena_free_bytes(&A) == 10 * ARENA_PAGE, "size rounded to %zu", A.size);

	uint8_t *a = arena_alloc(&A, 1), *b = arena_alloc(&A, ARENA_PAGE + 1), *c = arena_alloc(&A, 3 * ARENA_PAGE);
	CHECK(a && b && c, "allocations");
	CHECK((uintptr_t)a % ARENA_PAGE == 0 && (uintptr_t)b % ARENA_PAGE == 0, "not page aligned");
	CHECK(arena_contains(&A, b, 2 * ARENA_PAGE) && !arena_contains(&A, b, 20 * ARENA_PAGE), "contains");
	CHECK(!arena_contains(&A, (uint8_t *)A.base - 1, 1) && !arena_contains(&A, A.base + A.size, 1),
	      "contains outside");
	CHECK(arena_free_bytes(&A) == 4 * ARENA_PAGE, "free %zu", arena_free_bytes(&A));
	CHECK(!arena_alloc(&A, 5 * ARENA_PAGE), "over-allocation succeeded");
	memset(b, 0xab, 2 * ARENA_PAGE);
	arena_free(&A, b);
	arena_free(&A, b + 1);        /* not an allocation: logged, ignored */
	arena_free(&A, b);            /* double free: ignored */
	arena_free(&A, A.base + A.size + ARENA_PAGE);
	CHECK(arena_free_bytes(&A) == 6 * ARENA_PAGE, "free after bad frees %zu", arena_free_bytes(&A));
	uint8_t *d = arena_alloc(&A, 2 * ARENA_PAGE);
	CHECK(d, "2 pages after free");
	CHECK(d && d[0] == 0 && d[2 * ARENA_PAGE - 1] == 0, "reused memory not zeroed");
	arena_free(&A, a);
	arena_free(&A, c);
	arena_free(&A, d);
	CHECK(arena_free_bytes(&A) == 10 * ARENA_PAGE, "leak: %zu free", arena_free_bytes(&A));
	CHECK(arena_alloc(&A, 10 * ARENA_PAGE) == A.base, "whole arena after coalescing");
	arena_destroy(&A);

	CHECK(arena_init(&A, 64 * ARENA_PAGE) == 0, "init 2");
	pthread_t t[2];
	for (uintptr_t i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, hammer, (void *)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(arena_free_bytes(&A) == 64 * ARENA_PAGE, "threads leaked: %zu free", arena_free_bytes(&A));
	arena_destroy(&A);
	return test_exit();
}
