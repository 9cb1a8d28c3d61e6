/*
 * The unit serial is read at attach and again when wwn/vpd_unit_serial is
 * written (rtslib sets it after enabling the device), never on the command
 * path.  configfs is a scratch tree here (configfs_set_target_root).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "configfs.h"
#include "fixture.h"
#include "scsi_defs.h"

static char root[] = "/tmp/vhostio-serial-XXXXXX";
static char serial_path[512];

static void write_serial(const char *serial)
{
	FILE *f = fopen(serial_path, "w");
	if (!f)
		abort();
	fprintf(f, "T10 VPD Unit Serial Number: %s\n", serial);
	fclose(f);
}

static uint16_t vpd80(struct fixture *f, char *out)
{
	uint8_t cdb[6] = { OP_INQUIRY, 1, 0x80, 0, 255, 0 };
	uint16_t id = fx_run(f, cdb, 255, NULL);
	const uint8_t *d = ringsim_data(&f->sim, id);
	memcpy(out, &d[4], d[3]);
	out[d[3]] = 0;
	return id;
}

int main(void)
{
	if (!mkdtemp(root))
		return T_EXIT_FAIL;
	configfs_set_target_root(root);
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/core", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/core/user_1", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/core/user_1/test", root);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/core/user_1/test/wwn", root);
	mkdir(dir, 0755);
	snprintf(serial_path, sizeof(serial_path), "%s/vpd_unit_serial", dir);
	write_serial("");

	/* The fixture's device, but with its configfs directory in the scratch tree. */
	struct fixture *f = fx_new_configfs(64 * 1024, 1024, 512, "1/test");
	char serial[256];
	uint16_t id = vpd80(f, serial);
	CHECK_GOOD(f, id);
	CHECK(strcmp(serial, "0123456789abcdef0123456789abcdef") == 0, "attach-time serial, got '%s'", serial);

	/* Set after attach, as rtslib does after enable: seen after the next turn of the loop. */
	write_serial("5f3c2e4a-1111-2222-3333-444455556666");
	fx_serve(f, 100);
	id = vpd80(f, serial);
	CHECK_GOOD(f, id);
	CHECK(strcmp(serial, "5f3c2e4a-1111-2222-3333-444455556666") == 0, "serial after the write, got '%s'",
	      serial);

	/* An empty write keeps the last serial rather than reporting none. */
	write_serial("");
	fx_serve(f, 100);
	vpd80(f, serial);
	CHECK(strcmp(serial, "5f3c2e4a-1111-2222-3333-444455556666") == 0, "empty serial ignored, got '%s'", serial);

	/* Nothing is read without a write: remove the file, INQUIRY still answers from the LUN. */
	unlink(serial_path);
	id = vpd80(f, serial);
	CHECK_GOOD(f, id);
	CHECK(strcmp(serial, "5f3c2e4a-1111-2222-3333-444455556666") == 0, "no configfs read per command");

	fx_free(f);

	/* No watch possible (here: no wwn/ at attach; in life: no inotify
	 * instance left): the serial is read when asked for, not lost. */
	char dir2[256], path2[512];
	snprintf(dir2, sizeof(dir2), "%s/core/user_1/nowatch", root);
	mkdir(dir2, 0755);
	struct fixture *g = fx_new_configfs(64 * 1024, 1024, 512, "1/nowatch");
	snprintf(dir2, sizeof(dir2), "%s/core/user_1/nowatch/wwn", root);
	mkdir(dir2, 0755);
	snprintf(path2, sizeof(path2), "%s/vpd_unit_serial", dir2);
	FILE *sf = fopen(path2, "w");
	if (!sf)
		abort();
	/* A serial may hold ':' itself: only LIO's own prefix is stripped. */
	fputs("T10 VPD Unit Serial Number: a:b:c\n", sf);
	fclose(sf);
	id = vpd80(g, serial);
	CHECK_GOOD(g, id);
	CHECK(strcmp(serial, "a:b:c") == 0, "unwatched device reads the serial when asked, got '%s'", serial);
	fx_free(g);
	unlink(path2);
	rmdir(dir2);
	snprintf(dir2, sizeof(dir2), "%s/core/user_1/nowatch", root);
	rmdir(dir2);

	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/core/user_1/test", root);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/core/user_1", root);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/core", root);
	rmdir(dir);
	rmdir(root);
	return test_exit();
}
