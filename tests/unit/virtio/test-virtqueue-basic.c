/* Split ring basics against the in-process device: chain layout (readable
 * before writable, zero-length segments skipped), tokens back on
 * completion, free descriptors restored, ring full -EAGAIN, a chain that
 * can never fit -EINVAL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vqdev.h"

static int add4(struct vq *vq, struct iovec *req, struct iovec *out, unsigned nout, struct iovec *resp,
		struct iovec *in, unsigned nin, void *tok)
{
	const struct iovec *g[] = { req, out, resp, in };
	unsigned c[] = { 1, nout, 1, nin };
	return vq_add(vq, g, c, 4, 2, tok);
}

int main(void)
{
	enum { NUM = 8 };
	void *mem = aligned_alloc(4096, vq_ring_size(NUM));
	struct vq vq;
	struct vqdev dev;
	static struct vqdev_chain ch;
	char hdr[64], out[3][100], rsp[108], in[200];

	CHECK(vq_ring_size(NUM) % 4096 == 0, "ring size %zu not page multiple", vq_ring_size(NUM));
	CHECK(vq_init(&vq, mem, 6, false, false, NULL, NULL, NULL) == -EINVAL, "num 6 accepted");
	CHECK(vq_init(&vq, mem, NUM, false, false, NULL, NULL, NULL) == 0, "init");
	CHECK((uintptr_t)vq.used % 4 == 0 && (uintptr_t)vq.avail % 2 == 0, "ring alignment");
	vqdev_init(&dev, &vq, false);

	struct iovec req = { hdr, 51 }, resp = { rsp, 108 };
	struct iovec o[3] = { { out[0], 100 }, { out[1], 0 }, { out[2], 50 } };
	struct iovec i1 = { in, 200 };
	CHECK(add4(&vq, &req, o, 3, &resp, &i1, 1, (void *)1) == 0, "add");
	CHECK(vq.num_free == NUM - 5, "zero-length segment not skipped: %u free", vq.num_free);
	CHECK(vqdev_pop(&dev, &ch) == 0, "device saw an unpublished chain");
	vq_kick_prepare(&vq);
	CHECK(vqdev_pop(&dev, &ch) == 1, "device saw nothing after publish");
	CHECK(ch.n == 5 && !ch.indirect, "chain of %u", ch.n);
	CHECK(ch.seg[0].addr == hdr && ch.seg[0].len == 51 && !ch.seg[0].write, "req seg");
	CHECK(ch.seg[1].addr == out[0] && ch.seg[1].len == 100 && !ch.seg[1].write, "out seg 0");
	CHECK(ch.seg[2].addr == out[2] && ch.seg[2].len == 50 && !ch.seg[2].write, "out seg 2");
	CHECK(ch.seg[3].addr == rsp && ch.seg[3].len == 108 && ch.seg[3].write, "resp seg");
	CHECK(ch.seg[4].addr == in && ch.seg[4].len == 200 && ch.seg[4].write, "in seg");
	CHECK(dev.errors == 0, "device saw a malformed chain");

	void *tok = NULL;
	uint32_t len = 7;
	CHECK(vq_get_used(&vq, &tok, &len) == 0, "completion before the device pushed");
	vqdev_push(&dev, ch.head, 0);
	CHECK(vq_get_used(&vq, &tok, &len) == 1 && tok == (void *)1 && len == 0, "completion token %p", tok);
	CHECK(vq.num_free == NUM && vq.in_flight == 0, "free %u in flight %u", vq.num_free, vq.in_flight);

	/* Two-descriptor chains: NUM/2 fit, the next is -EAGAIN. */
	for (uintptr_t k = 0; k < NUM / 2; k++)
		CHECK(add4(&vq, &req, NULL, 0, &resp, NULL, 0, (void *)(k + 10)) == 0, "add %zu", (size_t)k);
	CHECK(add4(&vq, &req, NULL, 0, &resp, NULL, 0, (void *)99) == -EAGAIN, "full ring not -EAGAIN");
	/* Longer than the ring, no indirect: never fits. */
	struct iovec many[NUM];
	for (int k = 0; k < NUM; k++)
		many[k] = (struct iovec){ out[0], 10 };
	CHECK(add4(&vq, &req, many, NUM, &resp, NULL, 0, (void *)98) == -EINVAL, "oversized chain not -EINVAL");
	CHECK(add4(&vq, &req, NULL, 0, &resp, NULL, 0, NULL) == -EINVAL, "NULL token accepted");
	vq_kick_prepare(&vq);
	/* Complete out of order: last first. */
	uint16_t heads[NUM / 2];
	for (int k = 0; k < NUM / 2; k++) {
		CHECK(vqdev_pop(&dev, &ch) == 1 && ch.n == 2, "pop %d", k);
		heads[k] = ch.head;
	}
	for (int k = NUM / 2 - 1; k >= 0; k--)
		vqdev_push(&dev, heads[k], 0);
	for (int k = NUM / 2 - 1; k >= 0; k--) {
		CHECK(vq_get_used(&vq, &tok, NULL) == 1 && tok == (void *)(uintptr_t)(k + 10), "ooo token %p", tok);
	}
	CHECK(vq.num_free == NUM, "free list leaked: %u", vq.num_free);
	/* The free list still hands out every descriptor. */
	CHECK(add4(&vq, &req, many, NUM - 2, &resp, NULL, 0, (void *)5) == 0, "full-size chain after ooo");
	vq_kick_prepare(&vq);
	CHECK(vqdev_pop(&dev, &ch) == 1 && ch.n == NUM, "full chain has %u", ch.n);
	vqdev_push(&dev, ch.head, 0);
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && tok == (void *)5, "full chain completion");

	/* A bogus used entry is refused, not trusted. */
	CHECK(add4(&vq, &req, NULL, 0, &resp, NULL, 0, (void *)6) == 0, "add");
	vq_kick_prepare(&vq);
	vqdev_pop(&dev, &ch);
	vqdev_push(&dev, (uint16_t)(ch.head ^ 1), 0);
	CHECK(vq_get_used(&vq, &tok, NULL) == -EIO, "used entry for an idle head accepted");

	vq_fini(&vq);
	free(mem);
	return test_exit();
}
