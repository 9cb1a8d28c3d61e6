/* handler_ram: check_config accepts labels and good options and refuses
 * bad ones with a one-line reason naming the problem. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test-handler-plugin.h"

static void expect(const struct vhostio_handler *h, const char *cfg, int want, const char *in_reason)
{
	char *reason = NULL;
	int ret = h->check_config(cfg, &reason);
	CHECK(ret == want, "'%s': got %d, want %d (%s)", cfg, ret, want, reason ? reason : "no reason");
	if (in_reason)
		CHECK(reason && strstr(reason, in_reason) && !strchr(reason, '\n'),
		      "'%s': reason '%s' should be one line containing '%s'", cfg, reason ? reason : "(none)",
		      in_reason);
	free(reason);
}

int main(void)
{
	const struct vhostio_handler *h = load_handler("ram");
	CHECK(strcmp(h->subtype, "ram") == 0, "subtype");
	CHECK(h->config_desc && strstr(h->config_desc, "chunk=") && strstr(h->config_desc, "limit="),
	      "config_desc should document the options");
	CHECK(h->thread_model == VHOSTIO_THREAD_SERIALIZE, "thread model");

	expect(h, "", 0, NULL);
	expect(h, "ram0", 0, NULL);
	expect(h, "my label with spaces", 0, NULL);
	expect(h, "ram0;", 0, NULL);
	expect(h, "ram0;chunk=4k", 0, NULL);
	expect(h, "ram0;chunk=1m;limit=3g", 0, NULL);
	expect(h, ";limit=65536", 0, NULL);
	expect(h, "ram0;chunk=1M;limit=1G", 0, NULL);

	expect(h, "ram0;bogus", -EINVAL, "unknown ram option 'bogus'");
	expect(h, "ram0;chunk", -EINVAL, "unknown ram option 'chunk'");
	expect(h, "ram0;chunk=3k", -EINVAL, "power of two");
	expect(h, "ram0;chunk=2k", -EINVAL, "chunk=2k");
	expect(h, "ram0;chunk=2m", -EINVAL, "chunk=2m");
	expect(h, "ram0;chunk=64q", -EINVAL, "chunk=64q");
	expect(h, "ram0;limit=", -EINVAL, "limit=");
	expect(h, "ram0;limit=0", -EINVAL, "limit=0");
	expect(h, "ram0;limit=1x", -EINVAL, "limit=1x");
	expect(h, "ram0;limit=99999999999999999999g", -EINVAL, "limit=");
	expect(h, "ram0;chunk=1m;limit=512k", -EINVAL, "smaller than one chunk");

	/* A device on a bad config does not open. */
	CHECK(h->open && h->reconfig && h->unmap && h->lba_status && h->write_same, "callbacks present");
	return test_exit();
}
