/* Handler ABI: a handler built against an older, smaller struct loads and
 * works; a newer API version, a missing callback or a bad subtype is
 * refused; a newer, larger struct loads only if its extra fields are zero;
 * subtypes are unique. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <vhostio/vhostio.h>

#include "fixture.h"
#include "scsi_defs.h"

int main(void)
{
	/* "Older" handler: built before 'flush' existed. */
	struct vhostio_handler old = memdisk_handler;
	old.struct_size = offsetof(struct vhostio_handler, flush);
	struct vhostio_handler imported;
	memset(&imported, 0xa5, sizeof(imported));
	CHECK(handler_import(&imported, &old) == 0, "older struct refused");
	CHECK(imported.flush == NULL, "field beyond struct_size not zeroed");
	CHECK(imported.read == memdisk_handler.read, "known field not copied");

	struct fixture *f = fx_new_with(&old, 64 * 1024, 1024, 512, true);
	uint8_t cdb[10], buf[512];
	fill_pattern(buf, sizeof(buf), 1);
	cdb_rw10(cdb, OP_WRITE_10, 3, 1);
	uint16_t id = fx_run(f, cdb, 512, buf);
	CHECK_GOOD(f, id);
	uint8_t sync[10] = { OP_SYNCHRONIZE_CACHE_10 };
	id = fx_run(f, sync, 0, NULL);
	CHECK_GOOD(f, id);
	CHECK(f->disk.flushes == 0, "flush beyond the old struct was called");
	fx_free(f);

	/* Built against libvhostio 1.3, before 'abort' was appended: whatever
	 * lies past its struct (here a pointer-sized garbage) is not taken. */
	union {
		struct vhostio_handler h;
		unsigned char bytes[sizeof(struct vhostio_handler)];
	} pre_abort;
	memset(&pre_abort, 0x5a, sizeof(pre_abort));
	memcpy(&pre_abort, &memdisk_handler, offsetof(struct vhostio_handler, abort));
	pre_abort.h.struct_size = offsetof(struct vhostio_handler, abort);
	memset(&imported, 0xa5, sizeof(imported));
	CHECK(handler_import(&imported, &pre_abort.h) == 0, "1.3-sized struct refused");
	CHECK(imported.abort == NULL && imported.end_batch == memdisk_handler.end_batch,
	      "abort taken from beyond a 1.3 struct");

	/* "Newer" handler: a larger struct loads only if the extra fields are unused. */
	struct {
		struct vhostio_handler known;
		void *future_callbacks[4];
	} newer = { .known = memdisk_handler };
	newer.known.struct_size = sizeof(newer);
	CHECK(handler_import(&imported, &newer.known) == 0, "newer struct with zero extra fields refused");
	CHECK(imported.struct_size == sizeof(struct vhostio_handler), "imported size %u", imported.struct_size);
	newer.future_callbacks[2] = (void *)&newer;
	CHECK(handler_import(&imported, &newer.known) == -E2BIG, "a used unknown field was silently dropped");

	struct vhostio_ctx *ctx;
	CHECK(vhostio_ctx_new(&ctx) == 0, "ctx");
	struct vhostio_handler h = memdisk_handler;
	h.api_version = VHOSTIO_API_VERSION + 1;
	CHECK(vhostio_ctx_add_handler(ctx, &h) == -EINVAL, "future API version accepted");
	h = memdisk_handler;
	h.struct_size = 4;
	CHECK(vhostio_ctx_add_handler(ctx, &h) == -EINVAL, "truncated struct accepted");
	h = memdisk_handler;
	h.read = NULL;
	CHECK(vhostio_ctx_add_handler(ctx, &h) == -EINVAL, "handler without read accepted");
	h = memdisk_handler;
	h.subtype = "a/b";
	CHECK(vhostio_ctx_add_handler(ctx, &h) == -EINVAL, "subtype with '/' accepted");
	CHECK(vhostio_ctx_add_handler(ctx, &memdisk_handler) == 0, "good handler refused");
	CHECK(vhostio_ctx_add_handler(ctx, &old) == -EEXIST, "duplicate subtype accepted");
	vhostio_ctx_free(ctx);
	return test_exit();
}
