/* 16-bit ring indexes wrap: 70000 chains through a 4-entry ring, batches of
 * varying size completed in reverse, every token back exactly once. */
#include <stdlib.h>

#include "fixture.h"
#include "vqdev.h"

int main(void)
{
	enum { NUM = 4 };
	void *mem = aligned_alloc(4096, vq_ring_size(NUM));
	struct vq vq;
	struct vqdev dev;
	static struct vqdev_chain ch;
	char buf[16];
	struct iovec rd = { buf, 8 }, wr = { buf + 8, 8 };
	const struct iovec *g[] = { &rd, &wr };
	unsigned c[] = { 1, 1 };

	CHECK(vq_init(&vq, mem, NUM, true, false, NULL, NULL, NULL) == 0, "init");
	vqdev_init(&dev, &vq, true);
	uintptr_t next = 1, expect = 1;
	unsigned batch = 1;
	while (next < 70000 && !check_failures) {
		uint16_t heads[NUM];
		unsigned n = 0;
		while (n < batch && vq_add(&vq, g, c, 2, 1, (void *)next) == 0) {
			next++;
			n++;
		}
		vq_kick_prepare(&vq);
		for (unsigned k = 0; k < n; k++) {
			CHECK(vqdev_pop(&dev, &ch) == 1 && ch.n == 2, "pop at %zu", (size_t)next);
			heads[k] = ch.head;
		}
		for (unsigned k = n; k-- > 0;)
			vqdev_push(&dev, heads[k], 0);
		for (unsigned k = 0; k < n; k++) {
			void *tok;
			CHECK(vq_get_used(&vq, &tok, NULL) == 1, "no completion");
			/* reversed within the batch */
			CHECK(tok == (void *)(expect + n - 1 - k), "token %p want %zu", tok, (size_t)(expect + n - 1 - k));
		}
		expect += n;
		batch = batch % 2 + 1; /* 1, 2, 1, 2 ... (NUM/2 chains of 2 fit) */
	}
	CHECK(vq.avail_idx == (uint16_t)(next - 1), "avail idx %u after %zu", vq.avail_idx, (size_t)(next - 1));
	CHECK(vq.last_used == vq.avail_idx && vq.num_free == NUM, "ring not idle at the end");
	CHECK(dev.errors == 0, "device saw malformed chains");
	vq_fini(&vq);
	free(mem);
	return test_exit();
}
