/* The management API of a ctx: handler list, config checks with the
 * handler's reason, external subtypes, change_medium's input checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vhostio/vhostio.h>

#include "fixture.h"

static int picky_check(const char *config, char **reason)
{
	if (strcmp(config, "good") == 0)
		return 0;
	*reason = strdup("only 'good' will do");
	return -EINVAL;
}

int main(void)
{
	struct vhostio_ctx *ctx;
	char *reason = NULL;
	CHECK(vhostio_ctx_new(&ctx) == 0, "ctx");

	struct vhostio_handler picky = memdisk_handler;
	picky.subtype = "picky";
	picky.config_desc = "say good";
	picky.check_config = picky_check;
	CHECK(vhostio_ctx_add_handler(ctx, &memdisk_handler) == 0, "mem");
	CHECK(vhostio_ctx_add_handler(ctx, &picky) == 0, "picky");

	CHECK(vhostio_ctx_handler_count(ctx) == 2, "count %d", vhostio_ctx_handler_count(ctx));
	CHECK(strcmp(vhostio_ctx_handler_subtype(ctx, 1), "picky") == 0, "subtype 1");
	CHECK(strcmp(vhostio_ctx_handler_config_desc(ctx, 1), "say good") == 0, "desc 1");
	CHECK(vhostio_ctx_handler_subtype(ctx, 2) == NULL && vhostio_ctx_handler_subtype(ctx, -1) == NULL,
	      "out of range");

	CHECK(vhostio_ctx_check_config(ctx, "picky/good", &reason) == 0 && !reason, "good config refused");
	CHECK(vhostio_ctx_check_config(ctx, "picky/bad", &reason) == -EINVAL, "bad config accepted");
	CHECK(reason && strcmp(reason, "only 'good' will do") == 0, "reason '%s'", reason ? reason : "(none)");
	free(reason);
	CHECK(vhostio_ctx_check_config(ctx, "mem/anything", &reason) == 0, "no check_config: accepted");
	CHECK(vhostio_ctx_check_config(ctx, "nosuch/x", &reason) == -ENOENT, "unknown subtype accepted");
	CHECK(reason && strstr(reason, "nosuch"), "reason names the subtype: '%s'", reason ? reason : "(none)");
	free(reason);
	CHECK(vhostio_ctx_check_config(ctx, "noslash", &reason) == -EINVAL, "malformed accepted");
	free(reason);
	CHECK(vhostio_ctx_check_config(ctx, "picky/bad", NULL) == -EINVAL, "NULL reason");

	/* External subtypes share the namespace with handlers. */
	CHECK(vhostio_ctx_add_external_subtype(ctx, "picky") == -EEXIST, "external over a handler");
	CHECK(vhostio_ctx_add_external_subtype(ctx, "rbd") == 0, "external rbd");
	CHECK(vhostio_ctx_add_external_subtype(ctx, "rbd") == -EEXIST, "external twice");
	CHECK(vhostio_ctx_add_external_subtype(ctx, "a/b") == -EINVAL, "external with '/'");
	struct vhostio_handler rbd = memdisk_handler;
	rbd.subtype = "rbd";
	CHECK(vhostio_ctx_add_handler(ctx, &rbd) == -EEXIST, "handler over an external subtype");
	CHECK(vhostio_ctx_remove_external_subtype(ctx, "rbd") == 0, "remove external");
	CHECK(vhostio_ctx_remove_external_subtype(ctx, "rbd") == -ENOENT, "remove twice");
	CHECK(vhostio_ctx_add_handler(ctx, &rbd) == 0, "handler after the external left");

	/* change_medium refuses names that are not a plain backstore name. */
	CHECK(vhostio_ctx_change_medium(ctx, "../x", 0, NULL, &reason) == -EINVAL, "path in a name");
	free(reason);
	CHECK(vhostio_ctx_change_medium(ctx, "", 0, NULL, &reason) == -EINVAL, "empty name");
	free(reason);
	vhostio_ctx_free(ctx);
	return test_exit();
}
