/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test: the example handler of vhostio-handler(3) loads the way
 * vhostio-runner loads a plugin, and stamps the ABI fields it must.
 * Usage: example_loads PATH/handler_example.so    Exit 0: good, 1: bad.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <vhostio/handler.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s handler.so\n", argv[0]);
		return 1;
	}
	void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!so) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	/* POSIX lets dlsym's object pointer hold a function; ISO C casts may not convert it. */
	void *sym = dlsym(so, VHOSTIO_HANDLER_ENTRY_NAME);
	vhostio_handler_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry));
	const struct vhostio_handler *h = entry ? entry() : NULL;
	int bad = 0;
	if (!h) {
		fprintf(stderr, "no %s symbol, or it returned NULL\n", VHOSTIO_HANDLER_ENTRY_NAME);
		bad = 1;
	} else {
		if (h->struct_size != sizeof(struct vhostio_handler)) {
			fprintf(stderr, "struct_size %u, want %zu\n", h->struct_size, sizeof(struct vhostio_handler));
			bad = 1;
		}
		if (h->api_version != VHOSTIO_API_VERSION) {
			fprintf(stderr, "api_version %u, want %u\n", h->api_version, VHOSTIO_API_VERSION);
			bad = 1;
		}
		if (!h->subtype || strcmp(h->subtype, "example") != 0) {
			fprintf(stderr, "subtype '%s', want 'example'\n", h->subtype ? h->subtype : "(null)");
			bad = 1;
		}
		if (!h->open || !h->close || !h->read || !h->write) {
			fprintf(stderr, "open/close/read/write missing\n");
			bad = 1;
		}
	}
	if (!bad)
		printf("%s: handler '%s', API %u, struct %u bytes\n", argv[1], h->subtype, h->api_version,
		       h->struct_size);
	dlclose(so); /* h points into the plugin: not used past here */
	return bad;
}
