/* INDIRECT_DESC: long chains take one ring descriptor and a table from the
 * allocator, which gets it back on completion; short chains stay direct;
 * without a table a chain that fits goes direct, one that doesn't is
 * -ENOMEM; chains longer than the ring work indirect. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vqdev.h"

static int live, allocs, fail_next;

static void *talloc(void *opaque, size_t len)
{
	(void)opaque;
	if (fail_next) {
		fail_next = 0;
		return NULL;
	}
	live++;
	allocs++;
	return aligned_alloc(16, (len + 15) & ~(size_t)15);
}

static void tfree(void *opaque, void *p)
{
	(void)opaque;
	live--;
	free(p);
}

int main(void)
{
	enum { NUM = 8 };
	void *mem = aligned_alloc(4096, vq_ring_size(NUM));
	struct vq vq;
	struct vqdev dev;
	static struct vqdev_chain ch;
	static char data[64][64];
	struct iovec out[40], in[40];
	for (int i = 0; i < 40; i++) {
		out[i] = (struct iovec){ data[i], 10 + (size_t)i };
		in[i] = (struct iovec){ data[i + 20], 30 };
	}
	void *tok;

	CHECK(vq_init(&vq, mem, NUM, true, true, talloc, tfree, NULL) == 0, "init");
	vqdev_init(&dev, &vq, true);

	/* 2 + 3 = 5 segments: indirect. */
	const struct iovec *g[] = { out, in };
	unsigned c[] = { 2, 3 };
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)1) == 0, "add 5");
	CHECK(vq.num_free == NUM - 1 && live == 1, "indirect chain took %u descriptors, %d tables",
	      NUM - vq.num_free, live);
	/* 1 + 1: direct. */
	c[0] = 1;
	c[1] = 1;
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)2) == 0, "add 2");
	CHECK(vq.num_free == NUM - 3 && live == 1, "short chain went indirect");
	vq_kick_prepare(&vq);
	CHECK(vqdev_pop(&dev, &ch) == 1 && ch.indirect && ch.n == 5, "indirect chain %u segs", ch.n);
	for (unsigned k = 0; k < 5; k++) {
		const struct iovec *want = k < 2 ? &out[k] : &in[k - 2];
		CHECK(ch.seg[k].addr == want->iov_base && ch.seg[k].len == want->iov_len && ch.seg[k].write == (k >= 2),
		      "indirect seg %u", k);
	}
	uint16_t h1 = ch.head;
	CHECK(vqdev_pop(&dev, &ch) == 1 && !ch.indirect && ch.n == 2, "direct chain");
	vqdev_push(&dev, ch.head, 0);
	vqdev_push(&dev, h1, 0);
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && tok == (void *)2, "direct done");
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && tok == (void *)1 && live == 0, "table not freed");
	CHECK(vq.num_free == NUM, "free %u", vq.num_free);

	/* Longer than the ring: only indirect can carry it. */
	c[0] = 40;
	c[1] = 40;
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)3) == 0, "80-segment chain");
	vq_kick_prepare(&vq);
	CHECK(vqdev_pop(&dev, &ch) == 1 && ch.indirect && ch.n == 80, "80 segs: %u", ch.n);
	vqdev_push(&dev, ch.head, 0);
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && tok == (void *)3, "80 done");

	/* No table: a 5-chain that fits goes direct; an 80-chain cannot. */
	c[0] = 2;
	c[1] = 3;
	fail_next = 1;
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)4) == 0 && vq.num_free == NUM - 5, "fallback to direct");
	c[0] = 40;
	c[1] = 40;
	fail_next = 1;
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)5) == -ENOMEM, "80-chain without a table");
	/* A 4-chain does not fit the 3 free descriptors directly: goes indirect. */
	c[0] = 2;
	c[1] = 2;
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)6) == 0 && vq.num_free == NUM - 6 && live == 1, "indirect when short of descriptors");
	/* Fill up; then even indirect is -EAGAIN. */
	while (vq.num_free)
		CHECK(vq_add(&vq, g, c, 2, 1, (void *)7) == 0, "fill");
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)8) == -EAGAIN, "no descriptor for an indirect chain");
	CHECK(vq_add(&vq, g, c, 2, 1, (void *)8) == -EAGAIN, "again");
	/* Over the vhost limit. */
	struct iovec big[VQ_MAX_SEGS + 1];
	for (unsigned i = 0; i <= VQ_MAX_SEGS; i++)
		big[i] = (struct iovec){ data[0], 1 };
	const struct iovec *gb[] = { big };
	unsigned cb[] = { VQ_MAX_SEGS + 1 };
	CHECK(vq_add(&vq, gb, cb, 1, 1, (void *)9) == -EINVAL, "chain over VQ_MAX_SEGS");
	vq_fini(&vq);
	CHECK(live == 0, "vq_fini left %d tables", live);
	CHECK(dev.errors == 0, "device saw malformed chains");
	free(mem);
	return test_exit();
}
