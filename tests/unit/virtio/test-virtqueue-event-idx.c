/* Notification suppression both ways.  EVENT_IDX: the driver kicks only
 * when it publishes past avail_event (also across the 16-bit wrap), and
 * the device calls only past used_event, which vq_enable_cb() arms.
 * Without it: VRING_USED_F_NO_NOTIFY suppresses kicks. */
#include <stdlib.h>

#include "fixture.h"
#include "vqdev.h"

static struct vqdev_chain ch;

static int add1(struct vq *vq, void *tok)
{
	static char buf[16];
	struct iovec rd = { buf, 8 }, wr = { buf + 8, 8 };
	const struct iovec *g[] = { &rd, &wr };
	unsigned c[] = { 1, 1 };
	return vq_add(vq, g, c, 2, 1, tok);
}

int main(void)
{
	enum { NUM = 16 };
	void *mem = aligned_alloc(4096, vq_ring_size(NUM));
	struct vq vq;
	struct vqdev dev;
	void *tok;

	CHECK(vq_init(&vq, mem, NUM, true, false, NULL, NULL, NULL) == 0, "init");
	vqdev_init(&dev, &vq, true);

	/* avail_event 0: the first publish kicks. */
	add1(&vq, (void *)1);
	CHECK(vq_kick_prepare(&vq), "first kick suppressed");
	/* The device has not consumed: it is still awake, no kick. */
	add1(&vq, (void *)2);
	add1(&vq, (void *)3);
	CHECK(!vq_kick_prepare(&vq), "kick while the device is busy");
	CHECK(!vq_kick_prepare(&vq), "kick with nothing new");
	/* Device drains and asks to be kicked past 3. */
	for (int i = 0; i < 3; i++)
		CHECK(vqdev_pop(&dev, &ch) == 1, "pop %d", i);
	add1(&vq, (void *)4);
	CHECK(vq_kick_prepare(&vq), "no kick after the device caught up");
	/* avail_event far ahead: suppressed. */
	vqdev_pop(&dev, &ch);
	vqdev_set_avail_event(&dev, (uint16_t)(vq.avail_idx + 5));
	for (uintptr_t i = 0; i < 3; i++)
		add1(&vq, (void *)(5 + i));
	CHECK(!vq_kick_prepare(&vq), "kick before avail_event");
	CHECK(vq.kicks == 2 && vq.kicks_suppressed == 2, "kicks %llu suppressed %llu",
	      (unsigned long long)vq.kicks, (unsigned long long)vq.kicks_suppressed);
	/* Complete everything so far. */
	for (int i = 0; i < 3; i++)
		vqdev_pop(&dev, &ch);
	uint16_t h = 0;
	for (int i = 0; i < 7; i++)
		vqdev_push(&dev, h++ /* ids do not matter for this count */, 0);
	(void)h;

	/* Rebuild cleanly for the call side: fresh ring. */
	vq_fini(&vq);
	CHECK(vq_init(&vq, mem, NUM, true, false, NULL, NULL, NULL) == 0, "re-init");
	vqdev_init(&dev, &vq, true);
	uint16_t heads[4];
	for (uintptr_t i = 0; i < 4; i++)
		add1(&vq, (void *)(i + 1));
	vq_kick_prepare(&vq);
	for (int i = 0; i < 4; i++) {
		vqdev_pop(&dev, &ch);
		heads[i] = ch.head;
	}
	/* used_event 0 initially: the first completion calls, the next do not
	 * until the driver re-arms. */
	vqdev_push(&dev, heads[0], 0);
	CHECK(vqdev_should_call(&dev), "no call for the first completion");
	vqdev_push(&dev, heads[1], 0);
	CHECK(!vqdev_should_call(&dev), "call while the driver did not re-arm");
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && vq_get_used(&vq, &tok, NULL) == 1, "reap 2");
	CHECK(!vq_enable_cb(&vq), "enable_cb reports pending with none");
	vqdev_push(&dev, heads[2], 0);
	CHECK(vqdev_should_call(&dev), "no call after re-arm");
	/* A completion between reaping and re-arming is seen by enable_cb, so
	 * the driver does not sleep on it. */
	vqdev_push(&dev, heads[3], 0);
	vqdev_should_call(&dev);
	CHECK(vq_enable_cb(&vq), "enable_cb missed a pending completion");
	CHECK(vq_get_used(&vq, &tok, NULL) == 1 && vq_get_used(&vq, &tok, NULL) == 1, "reap 2 more");

	/* Kick decision across the 16-bit wrap of avail idx. */
	vq_fini(&vq);
	CHECK(vq_init(&vq, mem, NUM, true, false, NULL, NULL, NULL) == 0, "re-init");
	vqdev_init(&dev, &vq, true);
	for (unsigned round = 0; round < 65530 / 2; round++) {
		add1(&vq, (void *)1);
		add1(&vq, (void *)2);
		vq_kick_prepare(&vq);
		for (int i = 0; i < 2; i++) {
			vqdev_pop(&dev, &ch);
			vqdev_push(&dev, ch.head, 0);
		}
		vq_get_used(&vq, &tok, NULL);
		vq_get_used(&vq, &tok, NULL);
	}
	/* avail idx is 65530: the device wants a kick once 65535 is passed. */
	vqdev_set_avail_event(&dev, 65535);
	uint64_t k0 = vq.kicks;
	bool kicked_at[10] = { 0 };
	for (int i = 0; i < 10; i++) {
		add1(&vq, (void *)1);
		kicked_at[i] = vq_kick_prepare(&vq);
		vqdev_pop(&dev, &ch);
		vqdev_set_avail_event(&dev, 65535); /* keep it there */
		vqdev_push(&dev, ch.head, 0);
		vq_get_used(&vq, &tok, NULL);
	}
	/* Publishing idx 65536 == 0 is the first to pass event 65535. */
	for (int i = 0; i < 10; i++)
		CHECK(kicked_at[i] == (i == 5), "publish to idx %u: kick %d", (uint16_t)(65531 + i), kicked_at[i]);
	CHECK(vq.kicks == k0 + 1, "kicks across wrap %llu", (unsigned long long)(vq.kicks - k0));

	/* Without EVENT_IDX: NO_NOTIFY rules. */
	vq_fini(&vq);
	CHECK(vq_init(&vq, mem, NUM, false, false, NULL, NULL, NULL) == 0, "re-init");
	vqdev_init(&dev, &vq, false);
	add1(&vq, (void *)1);
	CHECK(vq_kick_prepare(&vq), "plain ring: no kick");
	vqdev_set_no_notify(&dev, true);
	add1(&vq, (void *)2);
	CHECK(!vq_kick_prepare(&vq), "kick despite NO_NOTIFY");
	vqdev_set_no_notify(&dev, false);
	add1(&vq, (void *)3);
	CHECK(vq_kick_prepare(&vq), "no kick after NO_NOTIFY cleared");

	vq_fini(&vq);
	free(mem);
	return test_exit();
}
