/* handler_file: FUA writes and SYNCHRONIZE CACHE succeed and the data is in
 * the file; the FUA flag reaches the handler's write; requests O_DIRECT
 * cannot take (unaligned buffers, odd iov lengths) go through the page
 * cache; a request with more iovs than readv takes is split. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "scsi_defs.h"
#include "test-handler-plugin.h"

#define BS 512
#define LBAS 16384 /* 8 MiB */

static int call_rw(struct fixture *f, bool write, const struct iovec *iov, int cnt, size_t len, uint64_t off,
		   uint32_t flags)
{
	struct shim_io s;
	shim_init(&s, f, flags);
	int ret = write ? f->handler.write(f->dev, &s.dio.io, iov, cnt, len, off)
			: f->handler.read(f->dev, &s.dio.io, iov, cnt, len, off);
	/* Outside a batch nothing submits for us: end_batch is the library's part. */
	if (ret == VHOSTIO_IO_ASYNC && f->handler.end_batch)
		f->handler.end_batch(f->dev);
	return shim_wait(f, &s, ret, 5000);
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("file");
	char *dir = make_tmpdir();
	char path[4200], cfg[4400];
	snprintf(path, sizeof(path), "%s/flush.img", dir);
	snprintf(cfg, sizeof(cfg), "file/%s;create", path);
	struct fixture *f = fx_new_cfg(h, cfg, 256 * 1024, LBAS, BS, true);
	int fd = open(path, O_RDONLY);
	uint8_t *buf = malloc(2 << 20), *chk = malloc(2 << 20);
	uint16_t id;

	CHECK(vhostio_device_caps(f->dev) & VHOSTIO_CAP_FUA, "FUA offered");
	/* WRITE 16 with FUA, then SYNCHRONIZE CACHE 10 and 16. */
	fill_pattern(buf, 64 * 1024, 80);
	id = write_blocks(f, 128, 128, buf, true);
	CHECK_GOOD(f, id);
	CHECK(pread(fd, chk, 64 * 1024, 128 * BS) == 64 * 1024 && memcmp(chk, buf, 64 * 1024) == 0,
	      "FUA write not in the file");
	uint8_t sync10[10] = { OP_SYNCHRONIZE_CACHE_10 };
	id = fx_run_wait(f, sync10, 0, NULL, 5000);
	CHECK_GOOD(f, id);
	uint8_t sync16[16] = { OP_SYNCHRONIZE_CACHE_16 };
	sync16[13] = 16; /* 16 blocks at LBA 0 */
	id = fx_run_wait(f, sync16, 0, NULL, 5000);
	CHECK_GOOD(f, id);
	/* The flush callback itself. */
	struct shim_io s;
	shim_init(&s, f, 0);
	int ret = h->flush(f->dev, &s.dio.io);
	if (ret == VHOSTIO_IO_ASYNC)
		h->end_batch(f->dev);
	CHECK(shim_wait(f, &s, ret, 5000) == 0, "flush callback");

	/* FUA flag on a direct handler call. */
	struct iovec v = { buf, 4096 };
	fill_pattern(buf, 4096, 81);
	CHECK(call_rw(f, true, &v, 1, 4096, 4096, VHOSTIO_IO_FUA) == 0, "FUA write callback");
	CHECK(pread(fd, chk, 4096, 4096) == 4096 && memcmp(chk, buf, 4096) == 0, "FUA callback data");

	/* Unaligned buffer and odd iov lengths: the page cache takes them. */
	uint8_t *odd = buf + 1;
	fill_pattern(odd, 8192, 82);
	struct iovec iv[3] = { { odd, 1000 }, { odd + 1000, 3000 }, { odd + 4000, 4192 } };
	CHECK(call_rw(f, true, iv, 3, 8192, 64 * BS, 0) == 0, "unaligned write");
	CHECK(pread(fd, chk, 8192, 64 * BS) == 8192 && check_pattern(chk, 8192, 82), "unaligned write data");
	memset(chk, 0xee, 8200);
	struct iovec rv[2] = { { chk + 3, 5000 }, { chk + 5003, 3192 } };
	CHECK(call_rw(f, false, rv, 2, 8192, 64 * BS, 0) == 0, "unaligned read");
	CHECK(check_pattern(chk + 3, 8192, 82), "unaligned read data");

	/* 2048 iovs of 512 bytes: more than one readv/writev can take. */
	struct iovec *many = calloc(2048, sizeof(*many));
	fill_pattern(buf, 1 << 20, 83);
	for (int i = 0; i < 2048; i++)
		many[i] = (struct iovec){ buf + (size_t)i * 512, 512 };
	CHECK(call_rw(f, true, many, 2048, 1 << 20, 2 << 20, 0) == 0, "2048-iov write");
	CHECK(pread(fd, chk, 1 << 20, 2 << 20) == 1 << 20 && check_pattern(chk, 1 << 20, 83), "2048-iov data");
	memset(buf, 0, 1 << 20);
	CHECK(call_rw(f, false, many, 2048, 1 << 20, 2 << 20, 0) == 0, "2048-iov read");
	CHECK(check_pattern(buf, 1 << 20, 83), "2048-iov read data");
	/* An iov array longer than 'length': only 'length' bytes move. */
	fill_pattern(buf, 8192, 84);
	memset(chk, 0x5a, 8192);
	int wfd = open(path, O_WRONLY);
	CHECK(wfd >= 0 && pwrite(wfd, chk, 8192, 6 << 20) == 8192, "poison 6M");
	close(wfd);
	struct iovec longer[2] = { { buf, 4096 }, { buf + 4096, 4096 } };
	CHECK(call_rw(f, true, longer, 2, 6144, 6 << 20, 0) == 0, "short length write");
	CHECK(pread(fd, chk, 8192, 6 << 20) == 8192 && check_pattern(chk, 6144, 84) && chk[6144] == 0x5a && chk[8191] == 0x5a,
	      "write moved more than 'length' bytes");

	CHECK(!f->sim.broken, "kernel side saw a broken ring");
	free(many);
	close(fd);
	free(buf);
	free(chk);
	fx_free(f);
	rm_tree(dir);
	return test_exit();
}
